"""Channel adapters: every way a message leaves or arrives, behind one interface
(``channels.base``)."""
