"""The test suite. tests/unit/ mirrors qa/ (tests/unit/store/test_lexical.py tests
qa/store/lexical.py) and runs without the real model: `./test.sh --fast`. tests/e2e/ runs the
real model and the real corpus, every test marked `slow`. Shared fixtures are in conftest.py,
small hand-made data and the fake embedder in samples.py."""
