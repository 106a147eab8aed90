"""The paper's torch experiments (Tables 1-2, Figures 2-8) as empirical cross-checks."""
