"""Other tools' formats: BLIF and AIGER in and out, and ABC's equivalence proofs."""
