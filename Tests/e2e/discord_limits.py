"""What Discord accepts in an execute-webhook body (docs/architecture.md: "Discord"), for the fake
Discord: its length limits (content 2000, 10 embeds, title 256, description 4096, 25 fields,
field name 256, value 1024, footer 2048, 6000 in all), types, `allowed_mentions` (at most 100
snowflakes each of roles and users, neither also in `parse`), and "Cannot send an empty message".
Lengths are counted in Python characters."""

import re
from datetime import datetime

EMPTY_MESSAGE = {"message": "Cannot send an empty message", "code": 50006}
SNOWFLAKE = re.compile(r"0|[1-9][0-9]{0,19}")

class _Errors:
    """Discord's nested `errors` object: {"embeds": {"0": {"title": {"_errors": [...]}}}}."""

    def __init__(self):
        self.tree = {}

    def add(self, path, code, message):
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def __bool__(self):
        return bool(self.tree)


def _check_string(errors, path, value, max_len=None, min_len=None, required=False):
    """Returns the string (or None) after recording what is wrong with it."""
    if value is None:
        if required:
            errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return None
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", f'Could not interpret "{value!r}" as string.')
        return None
    if required and not value.strip():
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif min_len is not None and max_len is not None and not min_len <= len(value) <= max_len:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {min_len} and {max_len} in length.")
    elif max_len is not None and len(value) > max_len:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {max_len} or fewer in length.")
    return value


def _check_url(errors, path, value, required=False):
    value = _check_string(errors, path, value, max_len=2048, required=required)
    if value and not re.match(r"^(https?|attachment)://\S+$", value):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def _check_dict(errors, path, value):
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return None
    return value


def _check_list(errors, path, value, max_len=None):
    if value is None:
        return None
    if not isinstance(value, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return None
    if max_len is not None and len(value) > max_len:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {max_len} or fewer in length.")
    return value


def _check_bool(errors, path, value):
    if value is not None and not isinstance(value, bool):
        errors.add(path, "BASE_TYPE_BOOLEAN", "Must be either true or false.")


def _check_int(errors, path, value, lo=None, hi=None):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    elif lo is not None and value < lo:
        errors.add(path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {lo}.")
    elif hi is not None and value > hi:
        errors.add(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {hi}.")


def _check_embed(errors, path, embed):
    """Validates one embed; returns its characters counted towards the 6000 total."""
    embed = _check_dict(errors, path, embed)
    if embed is None:
        return 0
    total = 0

    def counted(s):
        nonlocal total
        if isinstance(s, str):
            total += len(s)

    counted(_check_string(errors, path + ["title"], embed.get("title"), max_len=256))
    counted(_check_string(errors, path + ["description"], embed.get("description"), max_len=4096))
    _check_url(errors, path + ["url"], embed.get("url"))
    _check_int(errors, path + ["color"], embed.get("color"), lo=0, hi=0xFFFFFF)
    ts = embed.get("timestamp")
    if ts is not None:
        ok = isinstance(ts, str)
        if ok:
            try:
                datetime.fromisoformat(ts.replace("Z", "+00:00"))
            except ValueError:
                ok = False
        if not ok:
            errors.add(path + ["timestamp"], "DATE_TIME_TYPE_PARSE",
                       f"Could not parse {ts}. Should be ISO8601.")
    fields = _check_list(errors, path + ["fields"], embed.get("fields"), max_len=25)
    for i, f in enumerate(fields or []):
        fpath = path + ["fields", i]
        f = _check_dict(errors, fpath, f)
        if f is None:
            continue
        counted(_check_string(errors, fpath + ["name"], f.get("name"), max_len=256, required=True))
        counted(_check_string(errors, fpath + ["value"], f.get("value"), max_len=1024,
                              required=True))
        _check_bool(errors, fpath + ["inline"], f.get("inline"))
    footer = _check_dict(errors, path + ["footer"], embed.get("footer"))
    if footer is not None:
        counted(_check_string(errors, path + ["footer", "text"], footer.get("text"), max_len=2048,
                              required=True))
        _check_url(errors, path + ["footer", "icon_url"], footer.get("icon_url"))
    author = _check_dict(errors, path + ["author"], embed.get("author"))
    if author is not None:
        counted(_check_string(errors, path + ["author", "name"], author.get("name"), max_len=256,
                              required=True))
        _check_url(errors, path + ["author", "url"], author.get("url"))
        _check_url(errors, path + ["author", "icon_url"], author.get("icon_url"))
    for media in ("image", "thumbnail"):
        m = _check_dict(errors, path + [media], embed.get(media))
        if m is not None:
            _check_url(errors, path + [media, "url"], m.get("url"), required=True)
    return total


def _embed_is_empty(embed):
    if not isinstance(embed, dict):
        return False
    return not any(embed.get(k) for k in ("title", "description", "fields", "author", "footer",
                                           "image", "thumbnail", "video"))


def validate_message(body):
    """None if Discord would accept the (already parsed) body, else (status, error body)."""
    errors = _Errors()
    if not isinstance(body, dict):
        errors.add([], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return 400, {"code": 50035, "message": "Invalid Form Body", "errors": errors.tree}
    content = _check_string(errors, ["content"], body.get("content"), max_len=2000)
    username = _check_string(errors, ["username"], body.get("username"), min_len=1, max_len=80)
    if isinstance(username, str):
        for word in ("discord", "clyde"):
            if word in username.lower():
                errors.add(["username"], "USERNAME_INVALID_CONTAINS",
                           f'Username cannot contain "{word}"')
    _check_url(errors, ["avatar_url"], body.get("avatar_url"))
    _check_bool(errors, ["tts"], body.get("tts"))
    _check_int(errors, ["flags"], body.get("flags"), lo=0)
    _check_string(errors, ["thread_name"], body.get("thread_name"), min_len=1, max_len=100)
    embeds = _check_list(errors, ["embeds"], body.get("embeds"), max_len=10)
    total = sum(_check_embed(errors, ["embeds", i], e) for i, e in enumerate(embeds or []))
    if total > 6000:
        errors.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    mentions = _check_dict(errors, ["allowed_mentions"], body.get("allowed_mentions"))
    if mentions is not None:
        parse = _check_list(errors, ["allowed_mentions", "parse"], mentions.get("parse"))
        for i, p in enumerate(parse or []):
            if p not in ("roles", "users", "everyone"):
                errors.add(["allowed_mentions", "parse", i], "BASE_TYPE_CHOICES",
                           "Value must be one of {'roles', 'users', 'everyone'}.")
        for key in ("roles", "users"):
            ids = _check_list(errors, ["allowed_mentions", key], mentions.get(key), max_len=100)
            for i, value in enumerate(ids or []):
                if not (isinstance(value, str) and SNOWFLAKE.fullmatch(value) and int(value) < 2 ** 64):
                    errors.add(["allowed_mentions", key, i], "NUMBER_TYPE_COERCE",
                               f"Value \"{value}\" is not snowflake.")
            if ids and key in (parse or []):
                errors.add(["allowed_mentions"], "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                           f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.')
        _check_bool(errors, ["allowed_mentions", "replied_user"], mentions.get("replied_user"))
    if errors:
        return 400, {"code": 50035, "message": "Invalid Form Body", "errors": errors.tree}

    has_content = isinstance(content, str) and content.strip() != ""
    has_embeds = any(not _embed_is_empty(e) for e in (embeds or []))
    has_other = any(body.get(k) for k in ("components", "sticker_ids", "poll", "attachments"))
    if not (has_content or has_embeds or has_other):
        return 400, dict(EMPTY_MESSAGE)
    return None


USER_MENTION = re.compile(r"<@!?([0-9]+)>")
ROLE_MENTION = re.compile(r"<@&([0-9]+)>")


def pinged(body):
    """Whom Discord pings for a valid execute-webhook body, as its message's `mention_roles`,
    `mentions` (user ids here) and `mention_everyone` say: mentions in `content` only (an embed
    never pings), as far as `allowed_mentions` allows (absent: every kind)."""
    content = body.get("content") or ""
    allowed = body.get("allowed_mentions")
    parse = ["roles", "users", "everyone"] if allowed is None else allowed.get("parse") or []

    def kind(key, pattern):
        listed = (allowed or {}).get(key) or []
        return [i for i in dict.fromkeys(pattern.findall(content)) if key in parse or i in listed]

    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return kind("roles", ROLE_MENTION), kind("users", USER_MENTION), everyone

