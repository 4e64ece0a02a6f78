"""The lookup path Docker starts on every pull: protocol, targets, patterns, resolver, hints.

Import-budgeted: nothing here imports the management or online packages, nor a module on
importbudget.GET_DENIED at module level (tests/test_structure.py checks both statically).
"""
