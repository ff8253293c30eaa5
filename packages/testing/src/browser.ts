/** A browser for OAuth flows: follows nothing by itself, keeps one cookie per origin. */
export class Browser {
  readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    const origin = new URL(url).origin;
    const res = await fetch(url, {
      redirect: 'manual',
      headers: this.cookies.has(origin) ? { cookie: this.cookies.get(origin) as string } : {},
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookies.set(origin, set.split(';')[0] as string);
    return res;
  }

  /** Follows redirects until a page or a URL starting with `stopAt`. */
  async follow(url: string, stopAt?: string): Promise<{ url: string; res: Response }> {
    let current = url;
    for (let i = 0; i < 10; i++) {
      const res = await this.get(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, res };
      current = new URL(location, current).toString();
      if (stopAt && current.startsWith(stopAt)) return { url: current, res };
    }
    throw new Error('too many redirects');
  }
}
