"""The yardstick of bench_public.py: a hello-world Flask app served with the same settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello world"
