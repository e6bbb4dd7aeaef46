"""Config (de)serialization: turn objects into JSON-able dicts and back, with no code.

zoo's own classes register themselves by name (``Dense``); user classes register with
``@zoo.saving.register_serializable(package="my_pkg")`` (name ``my_pkg>MyLayer``) or are
passed as ``custom_objects``. A config naming an unknown class is an error that names it.
A config that carries Python code (a marshalled lambda) is refused under ``safe_mode``.
"""
import base64
import marshal
import types

_REGISTRY = {}


def register_builtin(cls):
    _REGISTRY[cls.__name__] = cls
    return cls


def register_serializable(package="Custom", name=None):
    def decorator(cls):
        key = f"{package}>{name or cls.__name__}"
        _REGISTRY[key] = cls
        cls._registered_name = key
        return cls

    return decorator


def registered_name(cls):
    cls = cls.__dict__.get("_functional_of", cls)  # CustomModel(inputs, outputs): see model.py
    key = cls.__dict__.get("_registered_name")
    if key:
        return key
    if _REGISTRY.get(cls.__name__) is cls:
        return cls.__name__
    return None


def serialize(obj):
    if isinstance(obj, types.FunctionType):
        return serialize_function(obj)
    name = registered_name(type(obj))
    if name is None:
        raise ValueError(
            f"{type(obj).__name__} is not registered for serialization: decorate it with "
            f"@zoo.saving.register_serializable() or pass it in custom_objects when loading."
        )
    return {"class_name": name, "config": obj.get_config()}


def get_class(name, custom_objects=None, where="config"):
    custom_objects = custom_objects or {}
    cls = custom_objects.get(name) or _REGISTRY.get(name)
    if cls is None and ">" in name:
        cls = custom_objects.get(name.split(">", 1)[1])
    if cls is None:
        raise ValueError(
            f"Unknown class {name!r} in {where}. Register it with "
            f"@zoo.saving.register_serializable() or pass custom_objects={{{name!r}: cls}}."
        )
    return cls


def deserialize(config, custom_objects=None, safe_mode=True):
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Not a serialized zoo object: {config!r}")
    if config["class_name"] == "__lambda__":
        return deserialize_function(config, safe_mode=safe_mode)
    cls = get_class(config["class_name"], custom_objects)
    inner = config.get("config", {})
    if hasattr(cls, "from_config"):
        if _accepts(cls.from_config, "custom_objects"):
            return cls.from_config(inner, custom_objects=custom_objects, safe_mode=safe_mode)
        return cls.from_config(inner)
    return cls(**inner)


def _accepts(fn, name):
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


# -- Python functions (lambdas): code, so only under safe_mode=False ---------------------

def serialize_function(fn):
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    defaults = fn.__defaults__
    return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults,
                                                   "name": fn.__name__}}


def deserialize_function(config, safe_mode=True):
    if safe_mode:
        raise ValueError(
            "This config carries Python code (a marshalled function "
            f"{config.get('config', {}).get('name', '<lambda>')!r}); zoo refuses to load code "
            "with safe_mode=True. Pass safe_mode=False only if you trust where the file came from."
        )
    inner = config["config"]
    code = marshal.loads(base64.b64decode(inner["code"]))
    defaults = tuple(inner["defaults"]) if inner.get("defaults") else None
    return types.FunctionType(code, globals(), inner.get("name"), defaults)


def contains_code(config):
    """True if a (nested) config would execute Python code when deserialized."""
    if isinstance(config, dict):
        if config.get("class_name") == "__lambda__":
            return True
        return any(contains_code(v) for v in config.values())
    if isinstance(config, (list, tuple)):
        return any(contains_code(v) for v in config)
    return False
