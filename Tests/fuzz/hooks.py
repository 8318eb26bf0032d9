"""Schemathesis hooks for fuzzing stellar-webhooks (loaded with SCHEMATHESIS_HOOKS=hooks by
run_fuzz.py, which sets SWH_FUZZ_DISCORD to the fake Discord's host:port).

- format `discord-webhook-url`: URLs to the fake Discord, mostly valid, some one mutation away;
  formats `slack-webhook-url` and `endpoint-url` (provider `http`): URLs to the fake Discord's
  address (in `slack_hosts` too), likewise.
- check `documented_server_errors` (replaces not_a_server_error): the only 5xx answers allowed
  are 503 `Storage unavailable` with Retry-After, and 500 `{"success": false, …}` from the test
  and retry endpoints (Discord's side failed). 502/504 (the service died or hung) fail.
- check `webhook_url_verdict`: whenever a create/update body carries a string `url`, the
  service's verdict on it matches the reference rule of the provider it names (discord_urls,
  slack_urls, endpoint_urls) or, named none, Discord's or Slack's (accepted ⇒ valid; a `Validation failed` lists `url`
  exactly when it is invalid), and a positive-mode create/update answered 400 is explained (an
  invalid URL, or `Webhook limit reached`). An update naming no provider keeps the webhook's
  own, which the check does not know: there only a Discord or Slack URL must pass and a URL no
  provider takes must fail. A positive-mode 400 on `mentions` is explained when the reference
  rule (mentions.py) refuses them, or on an update (the webhook's provider and its stored
  mentions are not known here). Likewise one on `threadPerServer`: a create's `true` for a
  provider other than Discord or with a URL of one thread (`?thread_id=`, which the document
  cannot rule out), or any update (the stored option and provider are not known here). And one
  on `statusCard` or `statusCardOnly`: a create's `statusCard` with `threadPerServer`, or
  `statusCardOnly` without `statusCard` (rules between fields the document does not state), or
  any update. And one on `collapse`: a create's with `statusCardOnly`, or any update.
- check `mentions_verdict`: a create's `mentions` are accepted exactly when the reference rule
  (mentions.py) takes them for the provider the body names or its URL implies.
- Hypothesis' lambda descriptions survive CPython 3.11's AST bug (below).
"""

import json
import os
import sys

from hypothesis.internal import lambda_sources

# CPython 3.11 before 3.11.8 can fail `ast.parse` with "SystemError: AST constructor recursion
# depth mismatch" (python/cpython#106905). Hypothesis parses a filtered strategy's lambda only to
# describe it, and Schemathesis' coverage phase then stopped the round on that error, found
# nothing, about one round in two. The description is cosmetic: an unknown one, as Hypothesis
# writes when it cannot parse a lambda, is enough.
_describe_lambda = lambda_sources._lambda_description


def _lambda_description_or_unknown(f, *args, **kwargs):
    try:
        return _describe_lambda(f, *args, **kwargs)
    except SystemError as error:
        print(f"hooks: a lambda described as unknown after CPython's {error!r}", file=sys.stderr)
        return "lambda: <unknown>"


lambda_sources._lambda_description = _lambda_description_or_unknown

import schemathesis
from schemathesis import GenerationMode

import endpoint_urls
import mentions
import slack_urls
from discord_urls import reference_valid, webhook_urls

AUTHORITY = os.environ.get("SWH_FUZZ_DISCORD", "127.0.0.1:9")
ALLOWED_HOSTS = [AUTHORITY]

schemathesis.openapi.format("discord-webhook-url", webhook_urls(AUTHORITY))
schemathesis.openapi.format("slack-webhook-url", slack_urls.slack_urls(AUTHORITY))
schemathesis.openapi.format("endpoint-url", endpoint_urls.endpoint_urls(AUTHORITY))
PROVIDERS = {"discord", "slack", "http"}

SEND_OPERATIONS = {"POST /webhooks/{id}/test", "POST /webhooks/{id}/deliveries/{deliveryId}/retry"}
WEBHOOK_BODY_OPERATIONS = {"POST /webhooks", "PATCH /webhooks/{id}"}


def _json(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return None


@schemathesis.check
def documented_server_errors(ctx, response, case):
    status = response.status_code
    if status < 500:
        return None
    body = _json(response)
    label = case.operation.label
    if status == 503 and isinstance(body, dict) and body.get("error") == "Storage unavailable":
        if not response.headers.get("Retry-After"):
            raise AssertionError("503 Storage unavailable without Retry-After")
        return None
    if (status == 500 and label in SEND_OPERATIONS and isinstance(body, dict)
            and body.get("success") is False):
        return None
    raise AssertionError(f"Undocumented server error {status} on {label}: {response.content[:300]!r}")


def _mode(case):
    meta = case.meta
    return meta.generation.mode if meta is not None else None


@schemathesis.check
def webhook_url_verdict(ctx, response, case):
    label = case.operation.label
    if label not in WEBHOOK_BODY_OPERATIONS or not isinstance(case.body, dict):
        return None
    url = case.body.get("url")
    provider = case.body.get("provider")
    if not isinstance(url, str) or ("provider" in case.body and (
            not isinstance(provider, str) or provider not in PROVIDERS)):
        return None  # no URL, or a provider refused on its own
    discord = reference_valid(url, ALLOWED_HOSTS, allow_insecure=True)
    slack = slack_urls.reference_valid(url, ALLOWED_HOSTS, allow_insecure=True)
    endpoint = endpoint_urls.reference_valid(url, allow_insecure=True)
    if provider is not None:
        valid = {"discord": discord, "slack": slack, "http": endpoint}[provider]
    elif label == "POST /webhooks" or discord or slack:  # inferred from the URL
        valid = discord or slack
    elif not endpoint:  # an update keeping its provider: no provider takes this URL
        valid = False
    else:
        return None
    status = response.status_code
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if 200 <= status < 300 and not valid:
        raise AssertionError(f"{label} accepted a URL the rule refuses: {url!r}")
    if status == 400 and error == "Validation failed":
        flagged = any(d.get("path", [None])[0] == "url" for d in body.get("details", []))
        if flagged == valid:
            raise AssertionError(
                f"{label}: URL {url!r} is {'valid' if valid else 'invalid'} by the rule, but the "
                f"service {'refused' if flagged else 'did not flag'} it: {body}")
    if status == 400 and error == "Invalid events" and not valid:
        raise AssertionError(f"{label}: invalid URL {url!r} passed validation")
    if status == 400 and _mode(case) == GenerationMode.POSITIVE:
        refusable = {"url"} if not valid else set()
        if label != "POST /webhooks" or not mentions.reference_valid(
                case.body.get("mentions"), _provider(case.body) if valid else provider):
            refusable.add("mentions")
        if label != "POST /webhooks" or _threads_refused(case.body):
            refusable.add("threadPerServer")
        if label != "POST /webhooks" or _cards_refused(case.body):
            refusable.update({"statusCard", "statusCardOnly"})
        if label != "POST /webhooks" or _collapse_refused(case.body):
            refusable.add("collapse")
        explained = error == "Webhook limit reached" or (
            error == "Validation failed"
            and all(d.get("path", [None])[0] in refusable for d in body.get("details", [])))
        if not explained:
            raise AssertionError(f"{label}: valid data refused: {body}")
    return None


def _threads_refused(body):
    """Whether a create's `threadPerServer` is refused: true for no Discord webhook, or for a URL
    of one thread."""
    if body.get("threadPerServer") is not True:
        return False
    return _provider(body) != "discord" or "thread_id=" in str(body.get("url"))


def _cards_refused(body):
    """Whether a create's `statusCard` options are refused by a rule between fields: the card
    with `threadPerServer`, or `statusCardOnly` without the card."""
    card = body.get("statusCard") is True
    return (card and body.get("threadPerServer") is True) or (body.get("statusCardOnly") is True and not card)


def _collapse_refused(body):
    """Whether a create's `collapse` is refused: with `statusCardOnly` (a rule between fields the
    document does not state)."""
    return isinstance(body.get("collapse"), dict) and body.get("statusCardOnly") is True


def _provider(body):
    """The provider a create's body names, or that its URL implies; None when neither."""
    provider = body.get("provider")
    if isinstance(provider, str) and provider in PROVIDERS:
        return provider
    url = body.get("url")
    if reference_valid(url, ALLOWED_HOSTS, allow_insecure=True):
        return "discord"
    if slack_urls.reference_valid(url, ALLOWED_HOSTS, allow_insecure=True):
        return "slack"
    return None


@schemathesis.check
def mentions_verdict(ctx, response, case):
    if case.operation.label != "POST /webhooks" or not isinstance(case.body, dict) or "mentions" not in case.body:
        return None
    named = case.body.get("provider")
    if "provider" in case.body and (not isinstance(named, str) or named not in PROVIDERS):
        return None  # a provider refused on its own
    provider = _provider(case.body)
    if provider is None:
        return None  # a URL no provider takes: that is the 400
    valid = mentions.reference_valid(case.body["mentions"], provider)
    status = response.status_code
    body = _json(response)
    if 200 <= status < 300 and not valid:
        raise AssertionError(f"accepted {provider} mentions the rule refuses: {case.body['mentions']!r}")
    if status == 400 and isinstance(body, dict) and body.get("error") == "Validation failed":
        flagged = any(d.get("path", [None])[0] == "mentions" for d in body.get("details", []))
        if flagged == valid:
            raise AssertionError(
                f"{provider} mentions {case.body['mentions']!r} are {'valid' if valid else 'invalid'} by the "
                f"rule, but the service {'refused' if flagged else 'did not flag'} them: {body}")
    return None
