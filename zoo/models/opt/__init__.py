"""OPT: backbone, byte-level BPE tokenizer, causal-LM preprocessor and task, HF converter."""
from zoo.models.opt.backbone import OPTBackbone  # noqa: F401
from zoo.models.opt.causal_lm import OPTCausalLM  # noqa: F401
from zoo.models.opt.preprocessor import OPTCausalLMPreprocessor  # noqa: F401
from zoo.models.opt.tokenizer import OPTTokenizer  # noqa: F401
from zoo.models.opt import convert  # noqa: F401,E402  (registers the transformers converter)
