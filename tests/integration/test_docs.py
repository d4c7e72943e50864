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
c.done()
