"""Web Push as a channel: VAPID keys, subscriptions, and the channel that sends encrypted pushes."""
