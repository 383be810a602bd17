"""What an on-call engineer needs beyond one snapshot: the kernel log (kmsg), what it remembers of
this boot (a transition's real age, a forced transition), the on-call facts built from both, and the
capture bundle that saves a host's state as evidence. May import the foundation and `livepatch` (the
kernel's per-task verdicts, read from the log, are put on its tasks).
"""
