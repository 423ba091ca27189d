"""The HR side, read-only. Every source yields canonical ``Employee`` records."""
