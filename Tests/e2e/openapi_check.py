"""Checks HTTP answers against docs/openapi.yaml, the API's contract.

    from openapi_check import check_response
    check_response("GET", "/api/webhooks?x=1", 200, headers, body_bytes)   # AssertionError if not

The document is loaded once. A request is matched to an operation like the service's router does
(path segments, `/api` stripped, the query ignored, a literal segment before a parameter); then:

- documented operation: the status must be one of its responses; the headers the response marks
  `required` must be there and match their schema; a JSON body must be `application/json;
  charset=utf-8` and valid against the response's schema (JSON Schema 2020-12, `$ref`s resolved
  in the whole document). The service's own 429s (manual sends) must carry `Retry-After`.
- a known path with another method: 405, `Allow` listing the path's methods, `{"error": string}`.
- an unknown path: 404 (or an answer any path can get: 400, 413, 429, 502, 503, 504) with
  `{"error": string}`.

Set STELLAR_WEBHOOKS_OPENAPI_CHECK=0 to switch the check off.
"""

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
DOC_URI = "urn:stellar-webhooks:openapi"
ENABLED = os.environ.get("STELLAR_WEBHOOKS_OPENAPI_CHECK", "1") != "0"

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Answers any request may get, whatever its path: the FastCGI reader's 400 and 413, nginx's 413,
# 429, 502 and 504, and the service's 503.
ANY_PATH_STATUSES = {400, 413, 429, 502, 503, 504}
# The service's own 429s (manual sends) say when to try again; nginx's rate-limit 429 does not.
SERVICE_429_ERRORS = {"A send is already in progress", "Too many sends in progress"}
API_PREFIX_RE = re.compile(r"^/api(?=/(webhooks|events|servers)(/|$))")


class OpenAPIMismatch(AssertionError):
    pass


class Contract:
    def __init__(self, path=DOCUMENT):
        self.document = yaml.safe_load(Path(path).read_text())
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOC_URI, resource)
        # (template segments, template text, {METHOD: operation, ...})
        self.paths = []
        for template, item in self.document["paths"].items():
            segments = [s for s in template.split("/") if s]
            operations = {m.upper(): item[m] for m in METHODS if m in item}
            self.paths.append((segments, template, operations))
        self._validators = {}

    # -- matching ---------------------------------------------------------------------------

    def match(self, path):
        """(template, {METHOD: operation}) for a request path, or (None, None)."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        path = API_PREFIX_RE.sub("", unquote(path))
        segments = [s for s in path.split("/") if s]
        best = None
        for template_segments, template, operations in self.paths:
            if len(template_segments) != len(segments):
                continue
            literals = 0
            for want, got in zip(template_segments, segments):
                if want.startswith("{"):
                    continue
                if want != got:
                    break
                literals += 1
            else:
                if best is None or literals > best[0]:
                    best = (literals, template, operations)
        return (best[1], best[2]) if best else (None, None)

    # -- resolving --------------------------------------------------------------------------

    def resolve(self, node):
        """Follows a local `$ref` to a non-schema object (response, header)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            node = self.document
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validator(self, pointer):
        """A 2020-12 validator for the schema at `pointer` (a JSON pointer into the document)."""
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{DOC_URI}#{pointer}"}, registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validators[pointer]

    # -- checking ---------------------------------------------------------------------------

    def check(self, method, path, status, headers, body):
        """Raises OpenAPIMismatch when the answer is not what the document says."""
        method = method.upper()
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else (body or "")
        where = f"{method} {path} -> {status}"
        template, operations = self.match(path)

        def fail(why):
            raise OpenAPIMismatch(f"answer not in docs/openapi.yaml: {where}: {why}\n"
                                  f"headers: {dict(headers)}\nbody: {text[:2000]!r}")

        if template is None or method not in operations:
            if template is None:
                if status != 404 and status not in ANY_PATH_STATUSES:
                    fail("an unknown path must answer 404 (or an answer any path can get)")
            elif status == 405:
                allow = headers.get("Allow")
                expected = ", ".join(sorted(operations))
                if allow != expected:
                    fail(f"405 must carry Allow: {expected!r}, got {allow!r}")
            elif status not in ANY_PATH_STATUSES:
                fail(f"an undocumented method on {template} must answer 405")
            if method != "HEAD":
                value = self._json(text, headers, fail)
                if not (isinstance(value, dict) and isinstance(value.get("error"), str)):
                    fail('the body must be {"error": string}')
            return

        operation = operations[method]
        responses = operation["responses"]
        key = str(status) if str(status) in responses else ("default" if "default" in responses
                                                           else None)
        if key is None:
            fail(f"status {status} is not documented for {method} {template} "
                 f"(documented: {', '.join(sorted(responses))})")
        response = self.resolve(responses[key])

        for name, header in (response.get("headers") or {}).items():
            header = self.resolve(header)
            value = headers.get(name)
            if value is None:
                if header.get("required"):
                    fail(f"missing header {name}")
                continue
            errors = list(self.validator_for_header(template, method, key, name).iter_errors(value))
            if errors:
                fail(f"header {name}: {errors[0].message}")

        content = response.get("content")
        if content and method != "HEAD" and "text/plain" in content:
            if not (headers.get("Content-Type") or "").startswith("text/plain"):
                fail(f"Content-Type must be text/plain, got {headers.get('Content-Type')!r}")
            return
        if content and method != "HEAD":
            media = content.get("application/json")
            if media is None:
                fail("the document gives this answer no JSON body")
            value = self._json(text, headers, fail)
            pointer = "/paths/{}/{}/responses/{}".format(
                template.replace("~", "~0").replace("/", "~1"), method.lower(), key)
            if "$ref" in responses[key]:
                pointer = responses[key]["$ref"][1:]
            pointer += "/content/application~1json/schema"
            errors = sorted(self.validator(pointer).iter_errors(value), key=lambda e: e.path)
            if errors:
                best = errors[0]
                at = "/".join(map(str, best.absolute_path)) or "(root)"
                fail(f"body at {at}: {best.message}")
            if status == 429 and isinstance(value, dict) and value.get("error") in SERVICE_429_ERRORS:
                if not re.fullmatch(r"[0-9]+", headers.get("Retry-After") or ""):
                    fail("the service's 429 must carry Retry-After (seconds)")

    def validator_for_header(self, template, method, key, name):
        response = self.resolve(self.document["paths"][template][method.lower()]["responses"][key])
        header = self.resolve(response["headers"][name])
        # Header schemas hold no $ref: validate against the schema itself.
        return Draft202012Validator(header["schema"])

    @staticmethod
    def _json(text, headers, fail):
        content_type = headers.get("Content-Type")
        if content_type != JSON_CONTENT_TYPE:
            fail(f"Content-Type must be {JSON_CONTENT_TYPE!r}, got {content_type!r}")
        try:
            return json.loads(text)
        except ValueError as e:
            fail(f"the body is not JSON ({e})")


@lru_cache(maxsize=1)
def contract():
    return Contract()


def check_response(method, path, status, headers, body):
    """Checks one answer (headers: a mapping with case-insensitive .get, e.g. http.client's)."""
    if ENABLED:
        contract().check(method, path, status, headers, body)
