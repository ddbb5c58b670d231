"""The watchlist cache: signed bundles from the authority, applied to a local SQLite copy, looked up by lanes.

Modules, roughly in the order data flows: records (what a listing is), bundle and keys (the signed
file format), store and tables (the cache), apply (bundle into cache, all or nothing), lookup and
templates (what lanes and the face index read), sources, http and sync (getting bundles),
staleness (is the copy too old), publish and authority_input (the authority's side), runtime
(the pieces wired from config).
"""
