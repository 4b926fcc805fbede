#!/usr/bin/env python3
# lang-examples.py: scores the reference's examples/lang/*.mcl (from a local copy of
# purpleidea/mgmt, never committed) with `mgmt graph lang`: how many import only modules we
# have, how many of those also use only resource kinds we have, and how many of those compile.
# Usage: tools/lang-examples.py [--mgmt build/mgmt] --repo DIR [-v]
import argparse, glob, os, re, subprocess

MODULES = {"fmt", "strings", "encoding", "convert", "math", "sys", "os", "iter", "golang",
           "golang/strings", "list", "map", "deploy", "datetime", "net", "test", "world",
           "local", "value", "world/collect"}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mgmt", default="build/mgmt")
    ap.add_argument("--repo", required=True)
    ap.add_argument("-v", action="store_true", help="list the examples left out too")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.repo, "examples/lang/*.mcl")))
    modules_ok, kinds_ok, compiled, failed, left_out = [], [], [], [], []
    for f in files:
        name = os.path.basename(f)
        imports = re.findall(r'^\s*import\s+"([^"]+)"', open(f).read(), re.M)
        missing = [i for i in imports if i not in MODULES and not i.endswith((".mcl", "/"))]
        if missing:
            left_out.append((name, "imports " + ", ".join(missing)))
            continue
        modules_ok.append(name)
        r = subprocess.run([a.mgmt, "graph", "lang", f], capture_output=True, text=True,
                           timeout=120)
        out = (r.stdout + r.stderr).strip().splitlines()
        last = out[-1] if out else "?"
        if r.returncode != 0 and re.search(r'resource kind "[^"]+" does not exist', last):
            left_out.append((name, last))
            continue
        kinds_ok.append(name)
        (compiled if r.returncode == 0 else failed).append((name, last))
    print(f"{len(files)} examples; {len(modules_ok)} import only modules we have; "
          f"{len(kinds_ok)} of those use only kinds we have; {len(compiled)} compile")
    for name, why in failed:
        print("FAIL", name, why)
    if a.v:
        for name, why in left_out:
            print("LEFT OUT", name, why)

if __name__ == "__main__":
    main()
