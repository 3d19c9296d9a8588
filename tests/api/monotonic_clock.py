"""Schemathesis hook for tests/api/run: time each request on the monotonic clock.

requests times a request with the wall clock (`time.time`) on every system but Windows, and
schemathesis's response-time check (`max_response_time`, limit 10 s) reads that figure. When
the wall clock is stepped while a request is in flight, as a freshly started CI machine does
when it sets its clock, the request seems to take as long as the step: CI once reported a
56-second answer in a run whose whole length, on the monotonic clock, was 27.6 seconds.
`time.perf_counter` is monotonic, so the check measures how long the server took.
"""

import time

import requests.sessions

requests.sessions.preferred_clock = time.perf_counter
