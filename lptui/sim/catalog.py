"""The demo scenarios by name, with what each shows: all a command line needs to offer them, without
importing the simulator (it is imported only when a demo runs)."""

from __future__ import annotations

SUMMARIES: dict[str, str] = {
    "idle": "two patches applied, no transition",
    "stuck": "a patching transition stuck for 2 h 14 m, held up by three tasks",
    "replace": "a cumulative patch replacing two older ones",
    "unpatch": "a stalled patching transition, reversed into unpatching",
    "kgraft": "a kGraft host (no upstream core): a kGraft patch held up by three processes",
    "kpatch-core": "the kpatch core module (kpatch.ko): two patches enabled, one disabled",
    "ksplice": "Ksplice beside the upstream core: one update applied, one aborted on a conflict",
    "bpf": "a patch of an unrelated function held up by BPF fexit programs (unreliable stacks)",
    "kprobe": "another tool's kprobe owns tcp_recvmsg: the installed tcp fix cannot load (EBUSY)",
}
