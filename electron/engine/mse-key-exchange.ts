/**
 * The Diffie-Hellman step of BitTorrent's message stream encryption (MSE), in BigInt, for the
 * wires webtorrent makes. bittorrent-protocol makes an OpenSSL DH object per wire, and Node
 * checks the prime each time it makes one (`DH_check`, primality tests on the 768-bit prime):
 * 15 ms of the main thread per wire on the Intel Xeon. When a fleet starts, each server dials
 * us and we dial it, and qBittorrent and Transmission encrypt: in an 8 × qBittorrent rollout the
 * publisher's event loop was blocked for 217 ms at once, just as the servers' first requests
 * came in. MSE asks for a 160-bit private key; two exponentiations with one take 0.4 ms.
 *
 * The only module that loads bittorrent-protocol (webtorrent's copy: the package is listed in
 * ours at the version webtorrent resolves, so npm keeps one). It swaps the library's `dh` getter
 * for one that returns a `MseKeyExchange` whose bad-key error closes the wire instead of escaping
 * the library's parser; nothing else of the handshake changes.
 */
import { randomBytes } from 'node:crypto'

/** The 768-bit prime P of the MSE specification; the generator G is 2. */
const PRIME = BigInt(
  '0xffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563',
)
const GENERATOR = 2n
/** Public keys and the shared secret go on the wire as 96 bytes, big-endian, zero-padded. */
const KEY_BYTES = 96
/** "You should use a length of 160 bits whenever possible" (the MSE specification). */
const PRIVATE_KEY_BYTES = 20

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n
  let b = base % modulus
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus
    b = (b * b) % modulus
  }
  return result
}

const toKeyBytes = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(KEY_BYTES * 2, '0'), 'hex')
const fromBytes = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`))

/** One side of one wire's key exchange: the two calls bittorrent-protocol makes on Node's DH object. */
export class MseKeyExchange {
  private readonly privateKey: bigint
  private publicKey: Buffer | null = null

  constructor(privateKey: Uint8Array = randomBytes(PRIVATE_KEY_BYTES)) {
    this.privateKey = fromBytes(privateKey)
    if (this.privateKey < 2n) throw new Error('MSE: a private key must be at least 2')
  }

  /** Our public key, 96 bytes. */
  generateKeys(): Buffer {
    this.publicKey ??= toKeyBytes(modPow(GENERATOR, this.privateKey, PRIME))
    return this.publicKey
  }

  /** The shared secret S, 96 bytes; throws, as Node's does, on a public key that would make it trivial. */
  computeSecret(peerPublicKey: Uint8Array): Buffer {
    const y = fromBytes(peerPublicKey)
    if (y <= 1n || y >= PRIME - 1n) throw new Error('MSE: the peer sent an invalid Diffie-Hellman public key')
    return toKeyBytes(modPow(y, this.privateKey, PRIME))
  }
}

let installed = false
let exchanges = 0

/** The two calls bittorrent-protocol makes on its DH object. */
interface DhObject {
  generateKeys(): Buffer
  computeSecret(peerPublicKey: Uint8Array): Buffer
}

interface EncryptorInternals {
  _dh: DhObject | null
  wire: { destroy(): void }
}

/**
 * Makes bittorrent-protocol's MSE use `MseKeyExchange`, and close a wire whose peer sends a bad
 * key. Resolves false, and leaves the library as it was, if its MSE no longer has the shape this
 * relies on (a `dh` getter on `MessageStreamEncryptor`): the wires then still work, at 15 ms a
 * wire, but a bad key would again stop serve, which the fuzz test's peer-wire phase catches.
 */
export async function useFastMseKeyExchange(): Promise<boolean> {
  if (installed) return true
  const library = await import(new URL('./mse.js', import.meta.resolve('bittorrent-protocol')).href).catch(() => null)
  const encryptor = (library as { MessageStreamEncryptor?: unknown } | null)?.MessageStreamEncryptor
  const prototype: unknown = typeof encryptor === 'function' ? encryptor.prototype : null
  if (typeof prototype !== 'object' || prototype === null) return false
  if (typeof Object.getOwnPropertyDescriptor(prototype, 'dh')?.get !== 'function') return false
  Object.defineProperty(prototype, 'dh', {
    configurable: true,
    get(this: EncryptorInternals): DhObject {
      if (!this._dh) {
        const exchange = new MseKeyExchange()
        const wire = this.wire
        this._dh = {
          generateKeys: () => exchange.generateKeys(),
          // The library calls this inside its parser, where a throw is an uncaught exception: any
          // peer sending a key of 0 or 1 stopped serve (Node's own DH threw there too). Its wire is
          // closed instead, and the handshake it can no longer finish writes to a closed stream.
          computeSecret: (peerPublicKey) => {
            try {
              return exchange.computeSecret(peerPublicKey)
            } catch {
              wire.destroy()
              return Buffer.alloc(KEY_BYTES)
            }
          },
        }
        exchanges++
      }
      return this._dh
    },
  })
  installed = true
  return true
}

/** How many wires have used `MseKeyExchange` in this process (the tests' proof that webtorrent's wires do). */
export function mseKeyExchanges(): number {
  return exchanges
}
