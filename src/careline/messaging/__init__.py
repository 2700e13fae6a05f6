"""Messaging (DESIGN.md §4 layer 2): templates, the outbox, the policy gate, channel adapters,
inbound routing and the unified inbox."""
