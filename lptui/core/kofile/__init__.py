"""Module files (.ko) as the kernel's loader sees them: the ELF and .modinfo reader (`modfile`,
pyelftools) and what a livepatch module declares in its klp_* relocations (`klpelf`). May import the
foundation only.
"""
