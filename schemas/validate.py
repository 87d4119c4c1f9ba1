#!/usr/bin/python3
"""Validate policy files against schemas/policy.schema.json.

usage: validate.py [--schema FILE] FILE...

Policy files are HuJSON: JSON plus // and /* */ comments and trailing commas.
Those are stripped (offsets kept), the result is parsed as strict JSON
(duplicate keys and NaN/Infinity are errors) and validated with jsonschema's
Draft202012Validator; the schema itself is checked with check_schema first.
"pattern" follows ECMA 262 as the spec asks: unlike Python's re, "$" does not
match before a final newline. Every error is printed as

    FILE: /json/pointer: message

Exit status: 0 every file valid, 1 some file invalid, 2 usage or I/O error
(including an invalid schema).

Needs the jsonschema package (Debian: python3-jsonschema, in /usr/bin/python3).
"""
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write("validate.py: the jsonschema package is missing "
                     "(apt-get install python3-jsonschema; run with /usr/bin/python3)\n")
    sys.exit(2)

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy.schema.json")


class HujsonError(ValueError):
    def __init__(self, msg, off):
        super().__init__(msg)
        self.off = off


def hujson_strip(text):
    """Blank out comments and trailing commas, keeping every offset.

    Comments become spaces (newlines kept), so positions in the result are
    positions in the file. A trailing comma is a comma followed only by
    whitespace and comments before a closing ']' or '}'."""
    out = list(text)
    i, n = 0, len(text)
    comma = None  # offset of the last ',' with only blanks after it
    prev = "{"    # last significant character
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            comma, prev = None, '"'
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise HujsonError("unterminated comment", i)
            for k in range(i, end + 2):
                if text[k] != "\n":
                    out[k] = " "
            i = end + 2
        else:
            blank = ch in " \t\r\n"
            if ch in "]}" and comma is not None:
                out[comma] = " "
            # only a comma after a value may trail: "{,}" and "[1,,]" stay errors
            if ch == "," and prev not in "{[,:":
                comma = i
            elif not blank:
                comma = None
            if not blank:
                prev = ch
            i += 1
    return "".join(out)


def linecol(text, off):
    line = text.count("\n", 0, off) + 1
    return line, off - (text.rfind("\n", 0, off) + 1) + 1


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"duplicate key {json.dumps(k)}")
        seen[k] = v
    return seen


def pointer(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def ecma_dollar(pattern):
    """Python's '$' also matches before a final newline; ECMA 262's does not.
    Rewrite each unescaped '$' outside a character class as '$(?!\\n)'."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "$" and not in_class:
            out.append("$(?!\\n)")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


_compiled = {}


def ecma_pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    rx = _compiled.get(pattern)
    if rx is None:
        rx = _compiled[pattern] = re.compile(ecma_dollar(pattern))
    if not rx.search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = jsonschema.validators.extend(Draft202012Validator, {"pattern": ecma_pattern})


def message(err):
    """Short message: quote the value and say what would be valid."""
    title = err.schema.get("title") if isinstance(err.schema, dict) else None
    if title and err.validator in ("pattern", "anyOf", "oneOf", "not"):
        return f"{json.dumps(err.instance)} is not {title}"
    return err.message


def leaves(err):
    """The errors worth reporting, each as (JSON pointer, message).

    allOf wraps the real problem: report what is inside.
    A bad or unknown member name is reported at the member, as policyctl does."""
    path = list(err.absolute_path)
    if err.validator == "allOf" and err.context:
        for sub in err.context:
            yield from leaves(sub)
    elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list(err.schema.get("properties", {}))
        for k in err.instance:
            if k not in allowed:
                yield pointer(path + [k]), \
                    f"unknown key {json.dumps(k)} (expected one of: {', '.join(allowed)})"
    elif "propertyNames" in err.absolute_schema_path:
        yield pointer(path + [err.instance]), message(err)
    else:
        yield pointer(path), message(err)


def validate_file(validator, path):
    """Returns the list of "pointer: message" strings; raises OSError."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        plain = hujson_strip(text)
    except HujsonError as e:
        line, col = linecol(text, e.off)
        return [f"{line}:{col}: {e}"]
    try:
        doc = json.loads(plain, parse_constant=reject_constant, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        return [f"{e.lineno}:{e.colno}: JSON syntax error: {e.msg}"]
    except ValueError as e:
        return [f"{e}"]
    errors = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: [f"{p:012d}" if isinstance(p, int) else p
                                                                  for p in e.absolute_path]):
        for ptr, msg in leaves(err):
            errors.append(f"{ptr or '/'}: {msg}")
    return errors


def main(argv):
    args = argv[1:]
    schema_path = SCHEMA
    if len(args) >= 2 and args[0] == "--schema":
        schema_path, args = args[1], args[2:]
    if not args or any(a.startswith("-") for a in args):
        sys.stderr.write("usage: validate.py [--schema FILE] FILE...\n")
        return 2
    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"{schema_path}: {e}\n")
        return 2
    except jsonschema.SchemaError as e:
        sys.stderr.write(f"{schema_path}: {pointer(e.absolute_path) or '/'}: not a 2020-12 schema: {e.message}\n")
        return 2
    validator = Validator(schema)
    status = 0
    for path in args:
        try:
            errors = validate_file(validator, path)
        except (OSError, UnicodeDecodeError) as e:
            sys.stderr.write(f"{path}: {e}\n")
            status = 2
            continue
        for e in errors:
            print(f"{path}: {e}")
        if errors and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
