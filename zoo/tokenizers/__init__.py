"""Tokenizers zoo models build on (inside the package: a top-level ``tokenizers`` package
would shadow Hugging Face's, which these wrap)."""
from zoo.tokenizers.byte_pair import BytePairTokenizer  # noqa: F401
from zoo.tokenizers.word_piece import WordPieceTokenizer  # noqa: F401
