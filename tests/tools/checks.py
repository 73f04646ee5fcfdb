# SPDX-License-Identifier: ISC
"""The pass/fail tally of the Python test scripts: each check prints one "ok"/"FAIL" line, and
summary() prints the counts and gives the script's exit status (1 when anything failed)."""


class Checks:
    def __init__(self):
        self.passes, self.fails = 0, []

    def __call__(self, cond, what):
        if cond:
            self.passes += 1
            print("ok   " + what, flush=True)
        else:
            self.fails.append(what)
            print("FAIL " + what, flush=True)
        return cond

    def summary(self):
        print(f"{self.passes} passed, {len(self.fails)} failed")
        return 1 if self.fails else 0
