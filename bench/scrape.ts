/**
 * A reference seeder's arrival in our tracker's swarm, read from a scrape: the benches wait for it
 * before they start downloaders, so those find it in their first peer list.
 */

/** True once the tracker counts a complete peer in the swarm of `infoHash`. */
export async function seederAnnounced(httpPort: number, infoHash: string): Promise<boolean> {
  const enc = [...Buffer.from(infoHash, 'hex')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
  try {
    const body = Buffer.from(await (await fetch(`http://127.0.0.1:${httpPort}/scrape?info_hash=${enc}`)).arrayBuffer()).toString('latin1')
    const m = /8:completei(\d+)e/.exec(body)
    return m !== null && Number(m[1]) >= 1
  } catch {
    return false
  }
}
