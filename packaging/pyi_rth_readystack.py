"""Runtime hook: run PyInstaller's costly runtime hooks on first import of their module.

PyInstaller runs a runtime hook at every start whenever its trigger module is anywhere in the
bundle: `pyi_rth_inspect` imports `inspect` + `zipfile` and lists base_library.zip (~27 ms),
`pyi_rth_pkgutil` imports `pkgutil`, both only because keyring (imported solely for
READYSTACK_SECRETS=keyring rows) needs those modules. The spec takes those hooks out of the
start-up scripts, bundles each unchanged as a module named `_readystack_deferred_<hook>`, and
this hook imports it right after (or, for "before" hooks, right before) the trigger module
itself is first executed. Patches land before any caller sees the module, exactly as if the
hook had run at start, and a `get` that never imports keyring never pays for them.

READYSTACK_PYI_AUDIT=FILE (debugging and tests): at exit, append to FILE one line per deferred
hook that ran (`rthook NAME`) and per module imported (`module NAME`). Unset, it costs one
environment lookup.

This file must import nothing that is not already loaded at start (sys, os).
"""


def _readystack_deferred_rthooks():  # noqa: C901 - closures keep __main__ clean
    import os
    import sys

    # trigger module -> (deferred hook module, "before" or "after" the trigger executes).
    # The spec reads this literal (ast) to know which hooks to defer: keep it a plain dict.
    DEFERRED = {
        "inspect": ("_readystack_deferred_pyi_rth_inspect", "after"),
        "pkgutil": ("_readystack_deferred_pyi_rth_pkgutil", "after"),
        "multiprocessing": ("_readystack_deferred_pyi_rth_multiprocessing", "after"),
        "cryptography": ("_readystack_deferred_pyi_rth_cryptography_openssl", "before"),
    }
    ran = []

    class _Loader:
        """Wraps the real loader of one trigger module; runs its hook around exec_module."""

        def __init__(self, loader, name):
            self._loader = loader
            self._name = name

        def create_module(self, spec):
            create = getattr(self._loader, "create_module", None)
            return create(spec) if create is not None else None

        def exec_module(self, module):
            # The module keeps the real loader (get_source, resources, is_package, ...).
            module.__loader__ = self._loader
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader
            entry = DEFERRED.pop(self._name, None)
            if entry is not None and entry[1] == "before":
                _run(entry[0])
            try:
                self._loader.exec_module(module)
            except BaseException:
                if entry is not None:  # a later attempt to import it gets the hook again
                    DEFERRED[self._name] = entry
                raise
            if not DEFERRED and _Finder in sys.meta_path:
                sys.meta_path.remove(_Finder)
            if entry is not None and entry[1] == "after":
                _run(entry[0])

        def __getattr__(self, name):
            return getattr(self._loader, name)

    def _run(hook):
        if hook in sys.modules:
            return
        try:
            __import__(hook)
        except ModuleNotFoundError as exc:
            if exc.name != hook:
                raise
            return  # PyInstaller selected no such hook for this build: nothing to run
        ran.append(hook)

    class _Finder:
        """Meta-path finder consulted first; answers only for trigger modules not yet run."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name not in DEFERRED:
                return None
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None) if finder is not _Finder else None
                spec = find(name, path, target) if find is not None else None
                if spec is not None:
                    break
            else:
                return None
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _Loader(spec.loader, name)
            return spec

        @staticmethod
        def invalidate_caches():
            pass

    # A trigger module already imported during bootstrap: its hook runs now, as PyInstaller would.
    for name in [n for n in DEFERRED if n in sys.modules]:
        _run(DEFERRED.pop(name)[0])
    if DEFERRED:
        sys.meta_path.insert(0, _Finder)

    audit = os.environ.get("READYSTACK_PYI_AUDIT")
    if audit:
        import atexit

        def _write_audit():
            lines = [f"rthook {h}\n" for h in ran] + [f"module {m}\n" for m in sorted(sys.modules)]
            with open(audit, "a", encoding="utf-8") as out:
                out.writelines(lines)

        atexit.register(_write_audit)


_readystack_deferred_rthooks()
del _readystack_deferred_rthooks
