#!/usr/bin/env python3
"""nut_dump_compare.py - what NUT 2.8.0 shows on an imported profile
against the NUT device dump the profile was made from.

    nut_dump_compare.py DUMP.dev UPSC.txt PROFILE.yaml [UPSRW.txt UPSCMD.txt]

DUMP.dev is the nut-ddl dump, UPSC.txt the output of `upsc` (NUT 2.8.0,
apcsmart) on the unit simulated from PROFILE.yaml, the result of
`upssim --import-nut-dump DUMP.dev`; UPSRW.txt the output of `upsrw`,
UPSCMD.txt that of `upscmd -l`.

Every static variable of the dump (identity, firmware, settings, nominal
values, packs) must show the same value, or differ for a reason listed
in EXPLAINED below: the dump came from an older NUT that named or read
things differently, or the dump does not hold the value (a masked serial)
and the importer had to guess it (the profile's own `# guess:` comment
is the reason then).  The writable ENUM choices of the dump's #RW lines
must be upsrw's, and the instant commands of its #CMD lines upscmd's.  Readings (voltages, load, charge ...) change while the
unit runs; they are printed side by side, not compared.

Prints one line per check: "PASS<TAB>text", "FAIL<TAB>text", or
"NOTE<TAB>text" (tests/realclient/test_nut_dumps.sh counts them).
"""
import re
import sys

import yaml

# Identity, firmware, settings, nominal values, packs: what a unit keeps.
STATIC = [
    "ups.model", "device.model", "ups.mfr", "device.mfr", "device.type",
    "ups.serial", "device.serial", "ups.mfr.date", "battery.date", "ups.id",
    "ups.firmware", "ups.firmware.old", "ups.firmware.aux",
    "input.transfer.high", "input.transfer.low", "input.sensitivity",
    "battery.charge.restart", "battery.runtime.low",
    "battery.alarm.threshold", "ups.delay.shutdown", "ups.delay.start",
    "ups.test.interval", "ups.display.language", "output.voltage.nominal",
    "output.voltage.target.battery", "battery.voltage.nominal",
    "battery.packs", "battery.packs.bad",
]
READINGS = [
    "ups.status", "input.voltage", "input.frequency", "output.voltage",
    "ups.load", "ups.temperature", "battery.charge", "battery.voltage",
    "battery.runtime", "output.current", "input.transfer.reason",
    "input.quality", "ups.test.result", "input.voltage.maximum",
    "input.voltage.minimum",
]
# dump variable -> the profile's identity key (for "the importer guessed")
IDENTITY = {
    "ups.model": "model", "device.model": "model",
    "ups.serial": "serial", "device.serial": "serial",
    "ups.mfr.date": "manufactured", "battery.date": "battery_date",
    "ups.id": "ups_id",
}


def read_vars(path):
    """name -> value of "name: value" lines (upsc and .dev alike)."""
    out = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^([A-Za-z0-9._-]+):(?: (.*)|)$", line)
            if m and m.group(1) not in out:
                out[m.group(1)] = m.group(2) or ""
    return out


def read_rw_enums(path):
    """var -> [choices] from the dump's #RW:var:ENUM:"v" lines."""
    out = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = re.match(r'^#RW:([A-Za-z0-9._-]+):ENUM:"?(.*?)"?\s*$', line)
            if m:
                out.setdefault(m.group(1), []).append(m.group(2))
    return out


def read_cmds(path, prefix):
    """Instant command names: "#CMD:name" (dump) or "name - text" (upscmd)."""
    out = set()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if prefix:
                m = re.match(r"^#CMD:([A-Za-z0-9._-]+)\s*$", line)
            else:
                m = re.match(r"^([a-z][A-Za-z0-9._-]+) - ", line)
            if m:
                out.add(m.group(1))
    return out


# older names of NUT's instant commands (NUT-T apc_cmdtab)
CMD_RENAMED = {
    "shutdown.return.grace": ("shutdown.return", "NUT 2.6's name for @ddd "
                              "(APC_CMD_GRACEDOWN); NUT 2.8 offers it as "
                              "shutdown.return with the argument at:N"),
}


def read_upsrw(path):
    """var -> [options] from `upsrw` output."""
    out, var = {}, None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = re.match(r"^\[(.+)\]$", line.strip())
            if m:
                var = m.group(1)
                continue
            m = re.match(r'^Option: "(.*)"', line)
            if m and var:
                out.setdefault(var, []).append(m.group(1))
    return out


def profile_guesses(path):
    """identity key -> the `# guess: ...` comment on its line, if any."""
    out = {}
    in_identity = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^\S", line):
                in_identity = line.startswith("identity:")
                continue
            m = re.match(r"^\s+(\w+): .*?\s+# (guess: .*)$", line)
            if in_identity and m:
                out[m.group(1)] = m.group(2)
    return out


def b_ok(s):
    return bool(re.match(r"^[A-Za-z0-9]+\.[A-Za-z0-9]+\.[A-Za-z0-9]+$", s or ""))


def explain(var, want, got, dump, nut, prof, guesses):
    """(expected NUT 2.8 value or None for "not shown", reason) or None."""
    ident = prof.get("identity") or {}
    if var in ("ups.serial", "device.serial") and want == "":
        return None, ("the unit answers n with an empty line: NUT 2.8's "
                      "apcsmart publishes no empty value, the older driver "
                      "(apcsmart-old) showed it empty")
    if var == "ups.firmware.old" and b_ok(dump.get("ups.firmware")):
        return None, ("NUT 2.8 reads V only when b is not a usable "
                      "SKU.FW.C (apc_vartab: ups.firmware is b, else V); "
                      "the older driver showed V as ups.firmware.old")
    if var == "output.voltage.target.battery":
        # not shown under the old name, and the new name holds the value
        same = nut.get("output.voltage.nominal") == want
        return None if same else "(output.voltage.nominal = %r)" % want, (
            "NUT 2.0's name for `o`: NUT 2.8 calls it "
            "output.voltage.nominal, which shows %r" %
            nut.get("output.voltage.nominal"))
    if (var in ("ups.model", "device.model") and want == "Smart-UPS" and
            prof.get("family") == "matrix-ups"):
        return "Matrix-UPS", (
            "the unit does not answer ^A: NUT 2.2 called every such unit "
            "\"Smart-UPS\", NUT 2.8 calls one it knows by a Matrix V code "
            "(%s) \"Matrix-UPS\"" % ident.get("firmware_v"))
    key = IDENTITY.get(var)
    if key and key in guesses:
        return str(ident.get(key)), "the importer's %s" % guesses[key]
    return None


def main():
    if len(sys.argv) not in (4, 6):
        sys.exit(__doc__)
    dump = read_vars(sys.argv[1])
    nut = read_vars(sys.argv[2])
    with open(sys.argv[3], encoding="utf-8") as f:
        prof = yaml.safe_load(f)
    guesses = profile_guesses(sys.argv[3])
    checked = 0
    for var in STATIC:
        if var not in dump:
            if var in nut:
                print("NOTE\talso shown by NUT 2.8, not in the dump: "
                      "%s = %r" % (var, nut[var]))
            continue
        want, got = dump[var], nut.get(var)
        checked += 1
        if got == want:
            print("PASS\t%s = %r as in the dump" % (var, got))
            continue
        why = explain(var, want, got, dump, nut, prof, guesses)
        if why is None:
            print("FAIL\t%s: the dump has %r, NUT 2.8 shows %r (no reason "
                  "known)" % (var, want, got))
        elif got == why[0]:
            print("PASS\t%s: the dump has %r, NUT 2.8 shows %r: %s" %
                  (var, want, got, why[1]))
        else:
            print("FAIL\t%s: the dump has %r, NUT 2.8 shows %r; expected %r "
                  "because %s" % (var, want, got, why[0], why[1]))
    if not checked:
        print("NOTE\tthe dump has no static variable to compare")
    for var in READINGS:
        if var in dump or var in nut:
            print("NOTE\treading %s: dump %r, NUT 2.8 %r" %
                  (var, dump.get(var), nut.get(var)))
    if len(sys.argv) == 6:
        want = read_cmds(sys.argv[1], True)
        got = read_cmds(sys.argv[5], False)
        for c in sorted(want):
            if c in got:
                print("PASS\tinstant command %s offered, as in the dump" % c)
            elif c in CMD_RENAMED and CMD_RENAMED[c][0] in got:
                print("PASS\tinstant command %s: not under that name: %s" %
                      (c, CMD_RENAMED[c][1]))
            else:
                print("FAIL\tinstant command %s of the dump not offered by "
                      "NUT 2.8 (upscmd -l: %s)" % (c, " ".join(sorted(got))))
        if want:
            renamed = {CMD_RENAMED.get(c, (c,))[0] for c in want}
            for c in sorted(got - renamed):
                print("FAIL\tinstant command %s offered by NUT 2.8, not in "
                      "the dump's #CMD lines" % c)

        enums = read_rw_enums(sys.argv[1])
        rw = read_upsrw(sys.argv[4])
        for var, choices in sorted(enums.items()):
            got = rw.get(var)
            if got == choices:
                print("PASS\tupsrw %s choices %s = the dump's #RW choices" %
                      (var, " ".join(got)))
            else:
                print("FAIL\tupsrw %s choices: the dump's #RW lines have %s, "
                      "upsrw shows %s" % (var, choices, got))


if __name__ == "__main__":
    main()
