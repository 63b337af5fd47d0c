"""Mail domains anyone can get an address at, so they cannot say who may sign in.

`auth.oidc.allowed_email_domains` lets every account of a listed domain through oauth2-proxy.
With a domain of a free mail provider that is every stranger who signs up there: the login
would keep nobody out. The list holds the large free providers (and their regional and legacy
domains); a company's own Google Workspace or Microsoft 365 domain is what belongs in the key.
Add a provider here when a stack shows one missing; each line is a provider.
"""

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com",  # Google
        "outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com",  # Microsoft
        "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es",
        "live.co.uk", "live.fr", "live.de", "outlook.fr", "outlook.de",
        "yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
        "yahoo.co.jp", "yahoo.es", "yahoo.it", "yahoo.com.br",  # Yahoo
        "icloud.com", "me.com", "mac.com",  # Apple
        "aol.com", "aim.com",  # AOL
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me",  # Proton
        "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "email.com",  # United Internet
        "zoho.com", "zohomail.com",  # Zoho
        "yandex.com", "yandex.ru", "ya.ru", "mail.ru", "bk.ru", "inbox.ru", "list.ru",
        "qq.com", "163.com", "126.com", "sina.com", "yeah.net", "foxmail.com",
        "naver.com", "daum.net", "hanmail.net",
        "tutanota.com", "tuta.io", "tutamail.com", "fastmail.com", "hushmail.com",
        "rediffmail.com", "libero.it", "orange.fr", "free.fr", "laposte.net", "t-online.de",
    }
)  # fmt: skip
