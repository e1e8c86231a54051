"""xstilts: a reproduction package for Phang et al. (2020), English intermediate-task training
improves zero-shot cross-lingual transfer too (X-STILTs)."""

__version__ = "0.1.0"
