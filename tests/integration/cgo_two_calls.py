"""prof_cgo -two: main.hotC -> C hot_loop and main.hotC2 -> C hot_loop2 in turn, two cgo calls made at one depth
of the goroutine's stack. A sample in C must get the Go callers of the call it was taken in."""
import collections

CALLERS = {"hot_loop": "main.hotC", "hot_loop2": "main.hotC2"}  # C function -> its Go caller


def tally(stacks):
    """stacks: (function names leaf first, count) of a build with its symbols. Returns (samples per C function,
    {(C function, Go callers found): samples} of those under the other call's caller, samples whose stack
    ends at runtime.goexit). A stack cut short has no Go caller: it is neither."""
    per_c, wrong, whole = collections.Counter({c: 0 for c in CALLERS}), collections.Counter(), 0
    for names, n in stacks:
        names = list(names)
        if "runtime.asmcgocall" not in names:
            continue
        c_func = next((f for f in names[:names.index("runtime.asmcgocall")] if f in CALLERS), None)
        if c_func is None:
            continue
        per_c[c_func] += n
        go_callers = {f for f in names if f in CALLERS.values()}
        if go_callers and go_callers != {CALLERS[c_func]}:
            wrong[(c_func, tuple(sorted(go_callers)))] += n
        whole += n if names[-1] == "runtime.goexit" else 0
    return per_c, wrong, whole
