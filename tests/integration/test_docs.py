"""docs/commands.md is generated from the command table; it must not drift,
and the man page and README must document every option --help lists."""
import os
import re

from upssim_proc import SRC, Check, run

c = Check("docs")
rc, out, err = run("--list-commands")
c.eq(rc, 0, "--list-commands exits 0")
with open(os.path.join(SRC, "docs", "commands.md")) as f:
    doc = f.read()
c(doc == out, "docs/commands.md matches `upssim --list-commands` (regenerate it)")
c.eq(len(re.findall(r"^\| `", out, re.M)), 73, "one row per command byte (71 actions' bytes + `+` + `d`)")
c("72 spec actions" in out, "the table counts 72 spec actions")

rc, helptext, _ = run("--help")
opts = set(re.findall(r"--([a-z][a-z-]+)", helptext))
with open(os.path.join(SRC, "docs", "upssim.1")) as f:
    man = f.read().replace("\\-", "-")
with open(os.path.join(SRC, "README.md")) as f:
    readme = f.read()
for o in sorted(opts):
    c("--" + o in man, "man page documents --%s" % o)
    c("--" + o in readme or o in ("help", "version", "list-commands", "verbose"),
      "README mentions --%s" % o)

# The other programs: every option their --help lists is in their man page
# and in the README.
import subprocess  # noqa: E402
bindir = os.path.dirname(os.path.abspath(os.environ.get("UPSSIM_BIN", "upssim")))
for prog in ("upsharness", "upssim-trace"):
    exe = os.path.join(bindir, prog)
    p = subprocess.run([exe, "--help"], capture_output=True, timeout=20)
    text = (p.stdout + p.stderr).decode(errors="replace")
    c(p.returncode == 0 and "Usage" in text, "%s --help answers" % prog)
    popts = set(re.findall(r"--([a-z][a-z-]+)", text))
    c(len(popts) >= 3, "%s --help lists its options (%d)" % (prog, len(popts)))
    manpath = os.path.join(SRC, "docs", prog + ".1")
    c(os.path.exists(manpath), "%s has a man page" % prog)
    pman = open(manpath).read().replace("\\-", "-") if os.path.exists(manpath) else ""
    for o in sorted(popts):
        c("--" + o in pman, "%s man page documents --%s" % (prog, o))
        c("--" + o in readme or o in ("help", "version"),
          "README mentions %s --%s" % (prog, o))
    # exit codes in the man page
    c("EXIT STATUS" in pman, "%s man page has EXIT STATUS" % prog)
c.done()
