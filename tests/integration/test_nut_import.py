"""`upssim --import-nut-dump`: every NUT device dump in tests/data/nut-ddl
is imported, the profile written to stdout is loaded with
`upssim --profile FILE`, and the unit on the pty answers the dump's values
on the wire (model, serial, dates, ID, transfer points, battery voltage);
files that are not dumps are refused with exit 3 and file:line:col."""
import glob
import os
import tempfile

from upssim_proc import Check, Sim, SRC, run

c = Check("nut_import")
DDL = os.path.join(SRC, "tests", "data", "nut-ddl", "APC")
dumps = sorted(glob.glob(os.path.join(DDL, "*.dev")))
c.eq(len(dumps), 13, "tests/data/nut-ddl/APC holds the 13 apcsmart dumps")


def read_dump(path):
    out = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("#") or ":" not in line:
                continue
            k, _, v = line.partition(":")
            out.setdefault(k, v[1:] if v.startswith(" ") else v)
    return out


PRINTABLE = set(chr(x) for x in range(0x20, 0x7F)) - set("!$%+#?=*|&")

# dump variable -> (command byte, how the unit sends it)
WIRE = [
    ("ups.serial", "n", lambda v: v),
    ("ups.mfr.date", "m", lambda v: v),
    ("battery.date", "x", lambda v: v),
    ("ups.id", "c", lambda v: v),
    ("input.transfer.high", "u", lambda v: v),
    ("input.transfer.low", "l", lambda v: v),
    ("ups.delay.shutdown", "p", lambda v: v),
    ("battery.voltage.nominal", "g", lambda v: v),
    ("battery.voltage", "B", lambda v: v),
]

with tempfile.TemporaryDirectory(prefix="upssim-nut-import.") as tmp:
    for path in dumps:
        name = os.path.basename(path)[:-4]
        rc, out, err = run("--import-nut-dump", path)
        c.eq(rc, 0, "%s: --import-nut-dump exits 0 (%s)" % (name, err.strip()))
        c.eq(err, "", "%s: nothing on stderr" % name)
        c(out.startswith("# ") and "\nfamily: " in out,
          "%s: YAML with a comment header and a family" % name)
        prof = os.path.join(tmp, name + ".yaml")
        with open(prof, "w") as f:
            f.write(out)
        rc, _, err = run("--profile", prof, "--list-commands")
        c.eq(rc, 0, "%s: upssim --profile loads the import (%s)" % (name, err.strip()))
        dump = read_dump(path)
        with Sim("--profile", prof) as s:
            s.open()
            s.smart()
            c.eq(s.cmd("Q"), b"08", "%s: the unit starts on line" % name)
            for var, cmd, form in WIRE:
                v = dump.get(var)
                if v is None or not v or not set(v) <= PRINTABLE:
                    continue
                got = s.cmd(cmd)
                c.eq(got, form(v).encode("latin-1"),
                     "%s: %s answers the dump's %s" % (name, cmd, var))

    # what is not a dump, or not there
    rc, _, err = run("--import-nut-dump", os.path.join(tmp, "missing.dev"))
    c.eq(rc, 3, "a missing file exits 3")
    c("missing.dev" in err and "no such file" in err.lower(),
      "a missing file is named: %r" % err)
    notdump = os.path.join(tmp, "notes.txt")
    with open(notdump, "w") as f:
        f.write("# just a note\nhello world\n")
    rc, out, err = run("--import-nut-dump", notdump)
    c.eq(rc, 3, "a file without a variable line exits 3")
    c.eq(out, "", "nothing on stdout for a refused file")
    c("notes.txt:1:1:" in err and "not a NUT device dump" in err,
      "the refusal reads file:line:col: message: %r" % err)
    rc, _, err = run("--import-nut-dump", tmp)
    c.eq(rc, 3, "a directory exits 3")
    rc, _, err = run("--import-nut-dump")
    c.eq(rc, 2, "--import-nut-dump without a file is a usage error")

c.done()
