"""Schemathesis hooks for oasgate's CI run (loaded through SCHEMATHESIS_HOOKS).

`filter_failure` drops a failure only where schemathesis disagrees with the OpenAPI text (or,
once, with a documented choice of oasgate), and says which text. Every other failure fails
the run.

- A rejected valid request (ST202) is dropped only when oasgate's problem body names errors
  and every one of them is explained below.
- An accepted invalid request (ST201) is dropped only when every "invalid component"
  schemathesis lists is not invalid by the text, or the body could not carry the mistake.
"""

import json

import schemathesis

# Percent-encoded style delimiters: `,` (simple), `.` (label), `;` and `=` (matrix).
ENCODED_PATH_DELIMITERS = ("%2C", "%2E", "%3B", "%3D")


def _errors(response):
    """The `errors` of oasgate's problem+json answer (empty for anything else)."""
    if response.headers.get("content-type", [""])[0] != "application/problem+json":
        return []
    try:
        return json.loads(response.content).get("errors", [])
    except ValueError:
        return []


def _sent_media_type(response):
    return response.request.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _sent_body(response):
    """The body sent, or None when it was streamed and is gone."""
    body = response.request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return body if isinstance(body, bytes) else None


def _path_and_query(response):
    path, _, query = response.request.path_url.partition("?")
    return path, query


# ---- rejected valid requests (ST202): each error must be explained


def _empty_query_value(error, case, response):
    # `allowEmptyValue` defaults to false: it "allows sending a parameter with an empty
    # value", so `?q=` for a parameter without it is not a valid request.
    return error.get("in") == "query" and error.get("code") == "empty"


def _nested_deep_object(error, case, response):
    # deepObject: "The representation of array or object properties is not defined."
    # Schemathesis sends extra properties that hold objects as `filter[x][y]=…` and arrays as
    # `filter[x]` repeated.
    _, query = _path_and_query(response)
    keys = [pair.partition("=")[0].upper() for pair in query.split("&")]
    if error.get("in") != "query":
        return False
    nested = error.get("code") == "format" and "[property]`, got" in error.get("detail", "")
    repeated = error.get("code") == "duplicate" and "property `" in error.get("detail", "")
    # An empty property name (`filter[]=…`) is not defined either; it reads as an array.
    odd = ("%5D%5B", "][", "%5B%5D", "[]")
    return (nested and any(mark in key for key in keys for mark in odd)) or (
        repeated and len(set(keys)) < len(keys)
    )


def _encoded_path_delimiter(error, case, response):
    # Style delimiters in a path are written as they are (RFC 6570); percent-encoded they are
    # data, so the value no longer splits. Schemathesis's stateful phase encodes them when it
    # reuses values.
    path, _ = _path_and_query(response)
    return error.get("in") == "path" and any(code in path.upper() for code in ENCODED_PATH_DELIMITERS)


def _ambiguous_mixed_segment(error, case, response):
    # A segment with several parameters (`{name}.{ext}`) is split at the first separator that
    # works; a generated value holding the separator itself (`name=a.tar`, `ext=tar.gz`) cannot
    # be told apart from another split, and the text does not say which split is meant.
    template = case.operation.path
    values = [str(v) for v in (case.path_parameters or {}).values()]
    return (
        error.get("in") == "path"
        and ("}.{" in template or "}-{" in template)
        and any("." in v or "-" in v for v in values)
    )


def _media_range_precedence(error, case, response):
    # "When more than one [media type] matches, the most specific key is applicable": for
    # `Content-Type: application/json`, `application/*` governs, not `*/*`. Schemathesis
    # generates a body for `*/*` and sends it as application/json, where the `application/*`
    # schema (an object that requires `a`) refuses it.
    return (
        case.operation.path == "/anything"
        and _sent_media_type(response).startswith("application/")
        and error.get("in") == "body"
        and error.get("code") in ("required", "type")
    )


def _nullable_in_3_1(error, case, response):
    # `nullable` is an OpenAPI 3.0 keyword; in a 3.1 document it is an unknown keyword with no
    # effect, so `{"type": "string", "nullable": true}` does not allow null.
    return (
        case.operation.path == "/nullable"
        and error.get("pointer") == "/b"
        and error.get("code") == "type"
    )


def _not_multipart(error, case, response):
    # Multipart: a value that is not an object has no multipart/form-data form; schemathesis
    # sends its text between two boundaries without part headers, which is not multipart. And
    # part headers hold no control characters but tab (RFC 9110 `field-vchar`), which
    # schemathesis puts in part names.
    if error.get("code") != "multipart" or _sent_media_type(response) != "multipart/form-data":
        return False
    body = _sent_body(response) or b""
    if b"content-disposition" not in body.lower():
        return True
    heads = [line for line in body.split(b"\r\n") if line.lower().startswith(b"content-disposition")]
    return any(any((b < 0x20 and b != 0x09) or b == 0x7F for b in line) for line in heads)


# What the canonical path refuses (docs/security.md): oasgate's documented choice, not the
# text's. A path parameter may be any string by its schema, but a value holding a control
# character, `/`, `\\`, a raw `;`, or standing alone as `.`/`..` or empty, is read one way by
# oasgate and another by the servers behind it, so oasgate refuses the request.
CANONICAL_PATH_CODES = (
    "dotSegment",
    "emptySegment",
    "encodedSlash",
    "backslash",
    "controlCharacter",
    "percentEncoding",
    "utf8",
    "semicolon",
)


def _canonical_path(error, case, response):
    return error.get("in") == "path" and error.get("code") in CANONICAL_PATH_CODES


EXPLAINED_ERRORS = [
    _empty_query_value,
    _nested_deep_object,
    _encoded_path_delimiter,
    _ambiguous_mixed_segment,
    _media_range_precedence,
    _nullable_in_3_1,
    _not_multipart,
    _canonical_path,
]


def _rejected_for_explained_reasons(failure, case, response):
    errors = _errors(response)
    return (
        failure.code == "ST202"
        and bool(errors)
        and all(any(rule(e, case, response) for rule in EXPLAINED_ERRORS) for e in errors)
    )


# ---- accepted invalid requests (ST201)


def _components(message):
    """The "Invalid component" lines of a negative-data failure."""
    _, _, rest = message.partition("Invalid component:")
    lines = [line.strip().lstrip("- ").strip() for line in rest.strip().splitlines()]
    return [line for line in lines if line]


def _discriminator_properties(node):
    """Every `discriminator.propertyName` in a document."""
    if isinstance(node, dict):
        found = set()
        name = node.get("discriminator", {}).get("propertyName") if isinstance(node.get("discriminator"), dict) else None
        if isinstance(name, str):
            found.add(name)
        for value in node.values():
            found |= _discriminator_properties(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_discriminator_properties, node)) if node else set()
    return set()


def _not_invalid_by_the_text(component, case, response):
    # "If `in` is "header" and the `name` field is "Accept", "Content-Type" or
    # "Authorization", the parameter definition SHALL be ignored."
    if "`Accept` in header" in component or component.endswith("(was Accept)"):
        return True
    # The text does not forbid parameters an operation does not declare.
    if any(component.startswith(f"{p}: violates `additionalProperties`") for p in ("query", "header", "cookie")):
        return True
    # "discriminator ... MUST NOT change the validation outcome of the schema" (OAS 3.1.1):
    # a body valid by its `oneOf` is valid whatever its discriminator value; schemathesis reads
    # the mapping as an enum of that property.
    if "violates `enum`" in component:
        names = _discriminator_properties(case.operation.schema.raw_schema)
        if any(component.rstrip().endswith(f"/properties/{name}") for name in names):
            return True
    form = _sent_media_type(response) in ("application/x-www-form-urlencoded", "multipart/form-data")
    if form and (component == "in body" or "violates `type`" in component or "Incorrect type" in component):
        # Form fields are text: `true` is also the string "true", null has no form at all,
        # and the array [0] and the scalar 0 are the same field (`ids=0`). ("in body" alone is
        # the heading of a list of such lines.)
        return True
    return False


def _empty_optional_form(failure, case, response):
    # An optional request body may be left out, and an empty form body is what a left-out body
    # looks like: it is not read as the object {}. (Schemathesis also sends values that are
    # not objects, which have no form, as empty form bodies.)
    sent = _sent_body(response)
    empty = not sent.strip() if sent is not None else not isinstance(case.body, dict)
    return (
        _sent_media_type(response) in ("application/x-www-form-urlencoded", "multipart/form-data")
        and empty
        and not any(body.is_required for body in case.operation.body)
    )


def _unread_media_type(failure, case, response):
    # Not a disagreement with the text but oasgate's documented choice: it reads JSON, form and
    # multipart bodies and passes every other media type through unread, so a YAML or XML body
    # under a media range is not checked against the range's schema.
    sent = _sent_media_type(response)
    read = (
        sent.endswith("/json")
        or sent.endswith("+json")
        or sent in ("application/x-www-form-urlencoded", "multipart/form-data")
    )
    return "in body" in failure.message and not read


def _query_values(response, name):
    """The raw values a query parameter was sent with, in order."""
    _, query = _path_and_query(response)
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    return [value for key, _, value in pairs if key == name]


def _query_cannot_carry(components, case, response):
    # A query parameter's mistake must be in the query sent. A value that has no form in a
    # query (an object for a scalar parameter) is left out, so the request does not hold it;
    # and a scalar sent for an array is the array of that one item, written the same: Swagger
    # 2.0 `collectionFormat` csv (the default) joins items with commas, "foo,bar", so `tags=0.0`
    # is the list ["0.0"]. Only lines under a heading "... in query" are judged here, every one
    # of them.
    in_query = False
    judged = False
    for line in components:
        if not line.startswith("violates"):
            in_query = line.endswith("in query")
            if not in_query:
                return False
            continue
        if not in_query:
            return False
        name = line.partition("/properties/")[2].partition(" ")[0]
        was = line.partition("(was ")[2].partition(",")[0]
        values = _query_values(response, name)
        scalar_for_array = (
            "violates `type`" in line
            and was == "array"
            and len(values) == 1
            and not any(d in values[0].upper() for d in (",", "%2C", "|", "%7C", "%20", "+", "%09"))
        )
        if not (values == [] or scalar_for_array):
            return False
        judged = True
    return judged


def _accepted_for_explained_reasons(failure, case, response):
    if failure.code != "ST201":
        return False
    components = _components(failure.message)
    if components and all(_not_invalid_by_the_text(c, case, response) for c in components):
        return True
    if _query_cannot_carry(components, case, response):
        return True
    return _empty_optional_form(failure, case, response) or _unread_media_type(failure, case, response)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but those explained above."""
    return not (
        _rejected_for_explained_reasons(failure, case, response)
        or _accepted_for_explained_reasons(failure, case, response)
    )
