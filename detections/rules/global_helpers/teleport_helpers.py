"""Helpers shared by the Teleport rules: `import teleport_helpers` in a rule's .py."""


def user_domain(user):
    """The domain of a Teleport user name (the text after the last "@"), lower case;
    "" for a name without one (a local user such as "admin")."""
    if not isinstance(user, str) or "@" not in user:
        return ""
    return user.rsplit("@", 1)[1].strip().lower().rstrip(".")


def cluster_in_domain(cluster, domain):
    """Whether a cluster name is the domain or one of its subdomains: label by label, so
    "teleport.example.com" is in "example.com" but "teleport.notexample.com" is not."""
    if not isinstance(cluster, str) or not domain:
        return False
    cluster = cluster.strip().lower().rstrip(".")
    return cluster == domain or cluster.endswith("." + domain)
