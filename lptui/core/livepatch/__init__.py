"""The upstream core's reading (kernel/livepatch/): the kernel's facts and taint, the patches in
/sys/kernel/livepatch, the tasks' patch_state and stacks, the scan that finds what blocks a transition,
a task's process facts, ftrace's tables and whether a settled patch is in effect (effect). May import
the core's foundation modules only (model, tree, errors, declared); never another sub-package.
"""
