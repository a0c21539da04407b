"""Pre-market: innovative-device special review, expert pool, registration and certificates.

Measures I, IV and V of NMPA Announcement No. 63 (2025). Sub-domains are sub-packages, each with the
same rooms (models, states, rules, schemas, service, queries, api, pages, cli).
"""
