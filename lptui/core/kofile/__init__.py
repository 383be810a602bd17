"""Module files (.ko) as the kernel's loader sees them: the ELF and .modinfo reader (`modfile`,
pyelftools), its relocations read once and bounded (`relocs`), and what a livepatch module declares
through them: klp_patch and kpatch-build's .kpatch.funcs (`klpelf`), klp-build's tables (`klpext`).
May import the foundation only.
"""
