"""What aimodels remembers of what it manages: the local JSON backend with atomic writes,
lineage and serial, and the state lock."""
