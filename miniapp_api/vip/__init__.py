"""The fan's VIP screen: packages, subscription links, cancelling."""
