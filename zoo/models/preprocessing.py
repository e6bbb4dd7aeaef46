"""Tokenizer and Preprocessor: the non-layer half of a preset (vocabulary files, lengths).

Protocol the preset hub relies on (zoo/hub/loaders/, zoo/hub/saving.py):
- both are plain objects with ``get_config()`` and ``from_config(config)``; a config holds
  only JSON data (never file contents, never code);
- ``save_assets(directory)`` writes the files the object needs (e.g. ``vocab.txt``) into
  ``directory``; ``load_assets(directory)`` reads them back into an object built by
  ``from_config``;
- a Preprocessor has ``.tokenizer`` and the class attribute ``tokenizer_cls``.
"""


class Tokenizer:
    @classmethod
    def from_preset(cls, handle, **overrides):
        from zoo.hub import loaders

        return loaders.load_tokenizer(handle, cls, **overrides)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_assets(self, directory):
        pass

    def load_assets(self, directory):
        pass


class Preprocessor:
    tokenizer_cls = None
    tokenizer = None

    @classmethod
    def from_preset(cls, handle, **overrides):
        from zoo.hub import loaders

        return loaders.load_preprocessor(handle, cls, **overrides)

    def _check_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError(f"{type(self).__name__} has no tokenizer; pass tokenizer= or load "
                             f"it with {type(self).__name__}.from_preset(...).")
        return self.tokenizer

    def get_config(self):
        """The tokenizer (serialized, when there is one); subclasses add their options."""
        from zoo.saving import serialization

        if self.tokenizer is None:
            return {}
        return {"tokenizer": serialization.serialize(self.tokenizer)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_assets(self, directory):
        self._check_tokenizer().save_assets(directory)

    def load_assets(self, directory):
        if self.tokenizer is None:
            self.tokenizer = self.tokenizer_cls()
        self.tokenizer.load_assets(directory)
