"""Example instance configuration: copy to instance/config.py and edit (that file is never committed).

The instance folder holds what belongs to one installation and stays out of
git: config.py, the generated secret_key, the SQLite database
(manifesto.sqlite), the job queue (queue.sqlite3) and cached exports
(exports/). Environment variables override what is set here; README.md lists
every setting.
"""

# DATABASE_URL = "postgresql://manifesto@127.0.0.1/manifesto"  # default: SQLite in this folder
# SECRET_KEY = "..."          # default: generated once into instance/secret_key
# SESSION_COOKIE_SECURE = True  # behind HTTPS
# SITE_URL = "https://manifesto.example.org"
# MAIL_SERVER = "smtp.example.org"
# MAIL_USE_TLS = True
# MAIL_SENDER = "Manifesto <manifesto@example.org>"
# REDIS_URL = "redis://127.0.0.1:6379/0"
# QUEUE_MODE = "worker"       # with a separate huey_consumer (see README, Deployment)
# EXPORT_INLINE_MAX_CHARS = 60000
