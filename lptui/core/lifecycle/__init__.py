"""A patch's life cycle on disk: where its module file came from (path, package, changelog CVEs),
whether it is installed for another release or lost at reboot, kpatch's boot service, the module
directories of a release. May import the foundation and `kofile`.
"""
