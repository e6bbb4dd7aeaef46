"""The one point through which zoo calls the active backend's op modules.

``zoo.backend.core``, ``numpy``, ``nn``, ``math``, ``image`` and ``random`` are
``BackendModule`` objects: each function of the backend module is reached through a
dispatcher. While a thread records (``with recording(recorder):``, used by
``zoo.ops.replay``), its calls go to ``recorder.call(fn, name, args, kwargs)`` instead of
straight to ``fn``; other threads are not affected, and the recorder is removed when the
``with`` block ends, whatever happens in it. When no thread records, a dispatcher checks one
module-level dict and calls the function (about 0.1 microseconds added per backend call);
the calling thread's recorder (a thread-local) is read only while some thread records.

Not dispatched, and handed out as they are: classes, constants, and the functions in
``METADATA``, which read only what a tensor's signature fixes (type, dtype, shape, device).
Calls a backend makes inside itself (``zoo.backend.torch.nn`` calling its own ``core``
directly) do not pass through here.
"""
import contextlib
import threading

METADATA = frozenset(("is_tensor", "dtype_of", "shape", "device_name"))


class _ThreadState(threading.local):
    recorder = None  # the class attribute is every thread's default


_state = _ThreadState()
_active = {}  # thread ident -> recorder, for introspection (changed only by ``recording``)
_active_lock = threading.Lock()


def current_recorder():
    """The calling thread's recorder, or None when this thread is not recording."""
    return _state.recorder


def active_recorders():
    """{thread ident: recorder} of every thread recording right now (a copy)."""
    with _active_lock:
        return dict(_active)


@contextlib.contextmanager
def recording(recorder):
    """Inside the block, this thread's backend calls go to ``recorder.call``; the recorder
    that was active before (normally None) is back when the block ends."""
    ident = threading.get_ident()
    previous = _state.recorder
    _state.recorder = recorder
    with _active_lock:
        _active[ident] = recorder
    try:
        yield recorder
    finally:
        _state.recorder = previous
        with _active_lock:
            if previous is None:
                _active.pop(ident, None)
            else:
                _active[ident] = previous


def _dispatcher(fn, name):
    def dispatched(*args, **kwargs):
        if _active:  # some thread records: is it this one?
            recorder = _state.recorder
            if recorder is not None:
                return recorder.call(fn, name, args, kwargs)
        return fn(*args, **kwargs)

    dispatched.__name__ = dispatched.__qualname__ = getattr(fn, "__name__", name)
    dispatched.__doc__ = getattr(fn, "__doc__", None)
    dispatched.__wrapped__ = fn
    return dispatched


class BackendModule:
    """A backend module as the rest of zoo sees it: its functions through the dispatch point
    (made on first use, then kept), everything else as it is. ``foldable=False`` marks a
    module whose calls a recorder must never fold into constants (random draws): its
    recorder sees the name None."""

    def __init__(self, module, foldable=True):
        self.__dict__["__wrapped__"] = module
        self.__dict__["_foldable"] = foldable
        self.__dict__["__name__"] = module.__name__
        self.__dict__["__doc__"] = module.__doc__

    def __getattr__(self, name):  # only for names not yet in the instance dict
        module = self.__dict__["__wrapped__"]
        try:
            value = getattr(module, name)
        except AttributeError:
            raise AttributeError(f"the backend module {module.__name__} has no attribute "
                                 f"{name!r}") from None
        if callable(value) and not isinstance(value, type) and name not in METADATA \
                and not name.startswith("__"):
            value = _dispatcher(value, name if self.__dict__["_foldable"] else None)
        self.__dict__[name] = value
        return value

    def __dir__(self):
        return dir(self.__dict__["__wrapped__"])

    def __repr__(self):
        return f"<dispatched backend module {self.__dict__['__name__']!r}>"


MODULES = {}  # "core", "numpy", ... -> the active backend's BackendModule


def load(package, name, foldable=True):
    """Imports ``package.name`` (``zoo.backend.torch``, ``"core"``) and returns it as the
    BackendModule that ``zoo.backend.<name>`` and ``MODULES[name]`` hold."""
    import importlib

    module = BackendModule(importlib.import_module(f"{package}.{name}"), foldable)
    MODULES[name] = module
    return module


def raw(fn):
    """The backend function behind a dispatcher (``fn`` itself if it is not one)."""
    return getattr(fn, "__wrapped__", fn)
