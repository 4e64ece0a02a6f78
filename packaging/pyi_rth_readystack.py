"""Runtime hook: run PyInstaller's costly runtime hooks on first import of their module.

PyInstaller runs a runtime hook at every start whenever its trigger module is anywhere in the
bundle: `pyi_rth_inspect` imports `inspect` + `zipfile` and lists base_library.zip (~27 ms),
`pyi_rth_pkgutil` imports `pkgutil`, both only because keyring (imported solely for
READYSTACK_SECRETS=keyring rows) needs those modules. The spec takes those hooks out of the
start-up scripts, bundles each unchanged as a module named `_readystack_deferred_<hook>`, and
this hook imports it right after (or, for "before" hooks, right before) the trigger module
itself is first executed. Patches land before any caller sees the module, exactly as if the
hook had run at start, and a `get` that never imports keyring never pays for them.

It also takes PyInstaller's PYZ finder out of the import path when the PYZ is empty (see
drop_pyz_finder).

READYSTACK_PYI_AUDIT=FILE (debugging and tests): at exit, append to FILE one line per deferred
hook that ran (`rthook NAME`) and per module imported (`module NAME`). Unset, it costs one
environment lookup.

This file must import nothing that is not already loaded at start (sys, os), and leaves no name
behind in `__main__`: its two classes are deleted at the end (sys.meta_path keeps the finder).
"""


class _ReadystackHookLoader:
    """Wraps the real loader of one trigger module; runs its hook around exec_module."""

    def __init__(self, loader, name, hooks):
        self._loader = loader
        self._name = name
        self._hooks = hooks

    def create_module(self, spec):
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        import sys

        # The module keeps the real loader (get_source, resources, is_package, ...).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        hooks = self._hooks
        entry = hooks.DEFERRED.pop(self._name, None)
        if entry is not None and entry[1] == "before":
            hooks.run(entry[0])
        try:
            self._loader.exec_module(module)
        except BaseException:
            if entry is not None:  # a later attempt to import it gets the hook again
                hooks.DEFERRED[self._name] = entry
            raise
        if not hooks.DEFERRED and hooks in sys.meta_path:
            sys.meta_path.remove(hooks)
        if entry is not None and entry[1] == "after":
            hooks.run(entry[0])

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _ReadystackDeferredHooks:
    """Meta-path finder consulted first; answers only for trigger modules not yet run."""

    # trigger module -> (deferred hook module, "before" or "after" the trigger executes).
    # The spec reads this literal (ast) to know which hooks to defer: keep it a plain dict.
    DEFERRED = {
        "inspect": ("_readystack_deferred_pyi_rth_inspect", "after"),
        "pkgutil": ("_readystack_deferred_pyi_rth_pkgutil", "after"),
        "multiprocessing": ("_readystack_deferred_pyi_rth_multiprocessing", "after"),
        "cryptography": ("_readystack_deferred_pyi_rth_cryptography_openssl", "before"),
        # Not a runtime hook: the bootstrap's ctypes hooks (see pyi_deferred_ctypes.py).
        "ctypes": ("_readystack_deferred_pyimod03_ctypes", "after"),
    }
    ran = []
    loader = _ReadystackHookLoader  # kept here: the module-level name is deleted at the end

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        import sys

        if name not in cls.DEFERRED:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None) if finder is not cls else None
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = cls.loader(spec.loader, name, cls)
        return spec

    @staticmethod
    def invalidate_caches():
        pass

    @classmethod
    def run(cls, hook):
        """Import one deferred hook module (once); a hook this build did not select is skipped."""
        import sys

        if hook in sys.modules:
            return
        try:
            __import__(hook)
        except ModuleNotFoundError as exc:
            if exc.name != hook:
                raise
            return  # PyInstaller selected no such hook for this build: nothing to run
        cls.ran.append(hook)

    @staticmethod
    def drop_pyz_finder():
        """Take PyInstaller's PYZ finder out of the import path when the PYZ is empty.

        pyimod02_importers puts PyiFrozenFinder on sys.path_hooks: for every folder it looks the
        module up in the PYZ, formats its trace messages, then asks Python's own FileFinder
        (~44 K instructions per module found, ~2 M per `get`). This build keeps every module as
        a .pyc in _internal (noarchive; the spec puts the deferred hooks there too), so the
        PYZ is empty and FileFinder alone finds exactly what PyiFrozenFinder would have.
        """
        import sys

        importers = sys.modules.get("pyimod02_importers")
        archive = getattr(importers, "pyz_archive", None)
        finder = getattr(importers, "PyiFrozenFinder", None)
        if archive is None or finder is None or archive.toc:
            return  # modules in the PYZ: PyInstaller's finder must stay
        for path, cached in list(sys.path_importer_cache.items()):
            if isinstance(cached, finder):
                del sys.path_importer_cache[path]  # made again by the FileFinder hook
        while finder.path_hook in sys.path_hooks:
            sys.path_hooks.remove(finder.path_hook)

    @classmethod
    def install(cls):
        """Run the hooks of triggers already imported, then put the finder first."""
        import os
        import sys

        cls.drop_pyz_finder()

        # A trigger module imported during bootstrap: its hook runs now, as PyInstaller would.
        for name in [n for n in cls.DEFERRED if n in sys.modules]:
            cls.run(cls.DEFERRED.pop(name)[0])
        if cls.DEFERRED:
            sys.meta_path.insert(0, cls)
        audit = os.environ.get("READYSTACK_PYI_AUDIT")
        if audit:
            cls.audit_at_exit(audit)

    @classmethod
    def audit_at_exit(cls, audit):
        """READYSTACK_PYI_AUDIT: at exit, append the hooks that ran and the modules imported."""
        import atexit
        import sys

        def write():
            lines = [f"rthook {h}\n" for h in cls.ran] + [
                f"module {m}\n" for m in sorted(sys.modules)
            ]
            with open(audit, "a", encoding="utf-8") as out:
                out.writelines(lines)

        atexit.register(write)


_ReadystackDeferredHooks.install()
del _ReadystackDeferredHooks, _ReadystackHookLoader
