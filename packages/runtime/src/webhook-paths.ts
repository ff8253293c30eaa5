/** The ingress's webhook routes: Auphonic's production webhook (its secret follows) and the External Service's (a connection id follows). */
export const WEBHOOK_PATHS = { production: '/webhooks/auphonic/', service: '/webhooks/service/' } as const;
