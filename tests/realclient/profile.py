#!/usr/bin/env python3
"""Read the values a real-client test expects from a upssim profile.

usage: profile.py PROFILE KEY [KEY...]
       profile.py PROFILE --dump
       profile.py --scenario SCENARIO KEY [KEY...]
  PROFILE  a built-in name (profiles/NAME.yaml under $UPSSIM_SOURCE_DIR) or a
           path to a .yaml file
  SCENARIO a scenario file (docs/scenarios.md): the profile it names (the
           default profile if none) with its `profile.override` laid over
           it the way upssim lays it (prof_overlay: as a child document)
  KEY      a dotted path into the merged profile, printed one value a line:
             identity.model, electrical.line_voltage, battery.charge ...
             eeprom.u.values   the list, space separated, in profile order
             eeprom.u.default  the factory value (`default`, else the first)
             eeprom.u.current  the value at start (`current`, else default)
             has.eeprom.u      "yes" if the profile lists values for u
           or a derived expectation (same arithmetic as the profile format
           documents for the simulated readings):
             expect.runtime_min     runtime on line at the start, whole
                                    minutes: floor(runtime_full_load *
                                    (100/load)^runtime_exponent * charge/100)
             expect.output_voltage  output on line: line voltage, times
                                    boost_gain/trim_gain when the line is
                                    below boost_below/above trim_above
             expect.status_flags    OL plus BOOST/TRIM when the above applies
             expect.ups_id          ups_id with the trailing padding removed
             expect.serial_trimmed  serial up to a NUL, trailing spaces
                                    removed (as apc_field reads apcaccess)
             expect.firmware        firmware_b, or firmware_v if the unit has no b
             expect.setting.X       eeprom.X.current (the value at start), or
                                    NO if the unit has no list

The YAML is read with yaml.BaseLoader, so every scalar is the text exactly as
written (no YAML 1.1 octal/boolean guessing: "020" stays "020").  `inherit:`
chains are followed (parent first, then this document's keys on top:
sections merge key by key, each eeprom entry and dump_extra replace, `~`
drops an inherited eeprom list).  A key missing from the whole chain takes
the format's documented default (SPEC_DEFAULTS, docs/profiles.md); a key
with no documented default is an error (exit 3), never a guess.
"""
import math
import os
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("profile.py: python3-yaml is missing "
                     "(apt-get install python3-yaml)\n")
    sys.exit(4)

DEFAULT_PROFILE = "smart-ups-1500"   # docs/scenarios.md: no profile = this

SRC = os.environ.get("UPSSIM_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Defaults the profile format applies to keys a profile leaves out
# (docs/profiles.md, "defaults"); only the ones these tests read.
SPEC_DEFAULTS = {
    "identity.ups_id": "UPS_IDEN",
    "identity.copyright": "(C) APCC",
    "voltage.nominal": "120",
    "voltage.frequency": "60",
    "electrical.line_voltage": "120.0",
    "electrical.line_frequency": "60.00",
    "electrical.load": "25",
    "electrical.temperature": "31.0",
    "electrical.boost_below": "0",
    "electrical.double_conversion": "false",
    "electrical.trim_above": "0",
    "electrical.boost_gain": "1.12",
    "electrical.trim_gain": "0.88",
    "battery.charge": "100",
    "battery.nominal_voltage": "24",
    "battery.runtime_full_load": "6.5",
    "battery.runtime_exponent": "1.5",
    "timing.selftest": "8000",
}


class ProfileError(Exception):
    pass


def locate(spec, relative_to=None):
    """Path of a profile given by name or path (like upssim's prof_load)."""
    if "/" in spec or spec.endswith(".yaml"):
        if relative_to and not os.path.isabs(spec):
            cand = os.path.join(os.path.dirname(relative_to), spec)
            if os.path.exists(cand):
                return cand
        return spec
    cands = [os.path.join(SRC, "profiles", spec + ".yaml")]
    for d in os.environ.get("UPSSIM_PROFILE_PATH", "").split(":"):
        if d:
            cands.append(os.path.join(d, spec + ".yaml"))
    if relative_to:
        cands.append(os.path.join(os.path.dirname(relative_to), spec + ".yaml"))
    for c in cands:
        if os.path.exists(c):
            return c
    raise ProfileError("no profile %r (looked in %s)" % (spec, ", ".join(cands)))


def load(spec, relative_to=None, depth=0):
    if depth > 4:
        raise ProfileError("inherit nested too deep at %r" % spec)
    path = locate(spec, relative_to)
    with open(path, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=yaml.BaseLoader) or {}
    if not isinstance(doc, dict):
        raise ProfileError("%s: not a mapping" % path)
    merged = {}
    if "inherit" in doc:
        merged = load(doc["inherit"], path, depth + 1)
    return overlay(merged, doc)


def overlay(merged, doc):
    """Lay document `doc` over the merged profile `merged`, as a child
    profile (or a scenario's override) is laid over its parent."""
    for key, val in doc.items():
        if key == "inherit":
            continue
        if key == "eeprom":
            ee = dict(merged.get("eeprom") or {})
            for cmd, ent in (val or {}).items():
                if ent in (None, "~", "null", "", "Null", "NULL"):
                    ee.pop(cmd, None)
                else:
                    ee[cmd] = ent
            merged["eeprom"] = ee
        elif isinstance(val, dict) and isinstance(merged.get(key), dict):
            m = dict(merged[key])
            m.update(val)
            merged[key] = m
        else:
            merged[key] = val
    return merged


def raw(p, dotted):
    """Text of a scalar key, from the chain or the documented default."""
    cur = p
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            if dotted in SPEC_DEFAULTS:
                return SPEC_DEFAULTS[dotted]
            raise ProfileError("profile gives no %s and the format has no "
                               "default the tests know of" % dotted)
        cur = cur[part]
    if isinstance(cur, (dict, list)):
        raise ProfileError("%s is not a scalar" % dotted)
    return cur


def num(p, dotted):
    return float(raw(p, dotted))


def eeprom(p, cmd):
    ent = (p.get("eeprom") or {}).get(cmd)
    if not ent:
        raise ProfileError("profile has no eeprom list for %r" % cmd)
    vals = list(ent.get("values") or [])
    if not vals:
        raise ProfileError("eeprom.%s has no values" % cmd)
    return ent, vals


def line_state(p):
    lv = num(p, "electrical.line_voltage")
    if str(value(p, "electrical.double_conversion")).lower() in ("true", "yes", "1"):
        # an on-line unit holds its output at the `o` setting (or nominal)
        if (p.get("eeprom") or {}).get("o"):
            return "", float(value(p, "eeprom.o.current"))
        return "", num(p, "voltage.nominal")
    boost = num(p, "electrical.boost_below")
    trim = num(p, "electrical.trim_above")
    if boost > 0 and lv < boost:
        return "BOOST", lv * num(p, "electrical.boost_gain")
    if trim > 0 and lv > trim:
        return "TRIM", lv * num(p, "electrical.trim_gain")
    return "", lv


def value(p, key):
    parts = key.split(".")
    if parts[0] == "eeprom" and len(parts) == 3:
        ent, vals = eeprom(p, parts[1])
        if parts[2] == "values":
            return " ".join(vals)
        if parts[2] == "default":
            return ent.get("default", vals[0])
        if parts[2] == "current":
            return ent.get("current", ent.get("default", vals[0]))
        if parts[2] == "locale":
            return ent.get("locale", "")
        raise ProfileError("unknown eeprom field %r" % parts[2])
    if parts[0] == "has" and len(parts) == 3 and parts[1] == "eeprom":
        return "yes" if (p.get("eeprom") or {}).get(parts[2]) else "no"
    if key == "expect.runtime_min":
        load_pct = max(num(p, "electrical.load"), 1.0)
        rt = (num(p, "battery.runtime_full_load") *
              (100.0 / load_pct) ** num(p, "battery.runtime_exponent"))
        return str(int(math.floor(rt * num(p, "battery.charge") / 100.0)))
    if key == "expect.output_voltage":
        return "%.1f" % line_state(p)[1]
    if key == "expect.status_flags":
        extra = line_state(p)[0]
        return "OL" + (" " + extra if extra else "")
    if parts[:2] == ["expect", "setting"] and len(parts) == 3:
        # a setting's value at start; `NO` where the unit has no list for it
        # (ULS p.18-19: a Matrix-UPS answers NO to l and e)
        if (p.get("eeprom") or {}).get(parts[2]):
            return value(p, "eeprom.%s.current" % parts[2])
        return "NO"
    if key == "expect.firmware":
        # what hosts show as firmware: `b` where the unit answers it, else `V`
        return raw(p, "identity.firmware_b") or raw(p, "identity.firmware_v")
    if key == "expect.serial_trimmed":
        return raw(p, "identity.serial").split("\0")[0].rstrip(" ")
    if key == "expect.ups_id":
        return raw(p, "identity.ups_id").rstrip(" ")
    return raw(p, key)


def load_scenario(path):
    """The profile a scenario runs: its `profile` (a name or path, or a
    mapping with `name` and `override`), the default profile when absent."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=yaml.BaseLoader) or {}
    spec = doc.get("profile")
    override = {}
    if isinstance(spec, dict):
        override = spec.get("override") or {}
        spec = spec.get("name")
    if spec in (None, "", "~", "null"):
        spec = DEFAULT_PROFILE
    return overlay(load(spec, path), override)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        if argv[1] == "--scenario":
            p = load_scenario(argv[2])
            argv = argv[1:]
        else:
            p = load(argv[1])
        if len(argv) < 3:
            sys.stderr.write(__doc__)
            return 2
        if argv[2] == "--dump":
            print(yaml.safe_dump(p, sort_keys=False))
            return 0
        out = [value(p, k) for k in argv[2:]]
    except (ProfileError, OSError, yaml.YAMLError, ValueError) as e:
        sys.stderr.write("profile.py: %s: %s\n" % (argv[1], e))
        return 3
    for v in out:
        print(v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
