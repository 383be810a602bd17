"""The older live patching systems, read from their own files: kGraft, the kpatch core module
(kpatch.ko) and Ksplice, and `systems`, which finds which of them a host has. May import the
foundation and `livepatch` (whose task readers they share); nothing else.
"""
