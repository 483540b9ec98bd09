"""Risk: the single place limits are enforced (a synchronous gate) and the circuit-breaker
input policy. Pure: no I/O, no clock reads (time arrives in the context), no imports of
net/ or store/."""
