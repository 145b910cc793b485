"""Media: probing, derivative generation and clip cutting (PyAV/FFmpeg), and the one
way a derivative is catalogued.

`probe`, `derivatives`, `waveform`, `audio` (the one AAC encoder), `cutting`, `pictures`
and `h264` are pure: they import no Django. `catalogue` stores a derivative and writes
its row and custody entry together; `pipeline` and `jobs` run the browser derivatives.
media imports neither review nor redaction: they import it.
"""
