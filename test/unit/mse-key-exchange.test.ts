/**
 * MSE's key exchange in BigInt gives the same keys and secret as OpenSSL's DH for the same private
 * key, refuses the public keys that would make the secret trivial, and takes the place of the
 * library's DH object on bittorrent-protocol's wires.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDiffieHellman, randomBytes } from 'node:crypto'
import { MseKeyExchange, mseKeyExchanges, useFastMseKeyExchange } from '../../electron/engine/mse-key-exchange.js'
import { within } from '../support/within.js'

// The prime P of the MSE specification (bittorrent.org's "Message Stream Encryption"); G is 2.
const PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
)

test('public key and secret match OpenSSL for the same private keys, 96 bytes each', () => {
  for (let i = 0; i < 20; i++) {
    const a = randomBytes(20)
    const b = randomBytes(i === 0 ? 96 : 20)
    if (i === 1) a[0] = 0 // a leading zero byte: keys still 96 bytes, zero-padded
    const ours = new MseKeyExchange(a)
    const theirs = createDiffieHellman(PRIME, 2)
    theirs.setPrivateKey(b)
    theirs.generateKeys()
    const node = createDiffieHellman(PRIME, 2)
    node.setPrivateKey(a)
    node.generateKeys()
    assert.equal(ours.generateKeys().length, 96)
    assert.deepEqual(ours.generateKeys(), Buffer.from(node.getPublicKey().toString('hex').padStart(192, '0'), 'hex'))
    const secret = ours.computeSecret(theirs.getPublicKey())
    assert.equal(secret.length, 96)
    assert.deepEqual(secret, theirs.computeSecret(ours.generateKeys()))
  }
})

test('two sides of our own agree, and a key is generated once', () => {
  const a = new MseKeyExchange()
  const b = new MseKeyExchange()
  assert.equal(a.generateKeys(), a.generateKeys())
  assert.deepEqual(a.computeSecret(b.generateKeys()), b.computeSecret(a.generateKeys()))
  assert.notDeepEqual(a.generateKeys(), b.generateKeys())
})

test('a peer public key of 0, 1, p - 1, p or nothing is refused with a clear error', () => {
  const p = BigInt(`0x${PRIME.toString('hex')}`)
  const bytes = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(192, '0'), 'hex')
  const ours = new MseKeyExchange()
  for (const bad of [bytes(0n), bytes(1n), bytes(p - 1n), bytes(p), Buffer.alloc(0)]) {
    assert.throws(() => ours.computeSecret(bad), /MSE: the peer sent an invalid Diffie-Hellman public key/)
  }
  assert.throws(() => new MseKeyExchange(Buffer.from([1])), /at least 2/)
})

test("bittorrent-protocol's encrypted wires use it: an MSE handshake between two wires completes", async () => {
  assert.equal(await useFastMseKeyExchange(), true, "bittorrent-protocol's MSE still has the dh getter this replaces")
  assert.equal(await useFastMseKeyExchange(), true, 'a second call is harmless')
  const { default: Wire } = (await import('bittorrent-protocol')) as unknown as { default: new (type: string, peEnabled: number) => TestWire }
  const before = mseKeyExchanges()
  const infoHash = randomBytes(20).toString('hex')
  const outgoing = new Wire('tcpOutgoing', 2)
  const incoming = new Wire('tcpIncoming', 2)
  outgoing.pipe(incoming).pipe(outgoing)
  incoming.on('crypto-infohash', () => void incoming.setInfoHash(infoHash))
  const handshake = new Promise<string>((resolve) => incoming.once('handshake', (h: string) => resolve(h)))
  outgoing.once('crypto-handshake', () => outgoing.handshake(infoHash, randomBytes(20).toString('hex')))
  outgoing.startEncryption(infoHash)
  assert.equal(await within(handshake, 'the MSE handshake', 5000), infoHash, 'the BitTorrent handshake arrived through the RC4 stream')
  assert.equal(mseKeyExchanges() - before, 2, 'both sides took their keys from MseKeyExchange')
  outgoing.destroy()
  incoming.destroy()
})

interface TestWire extends NodeJS.ReadWriteStream {
  startEncryption(infoHash: string): void
  setInfoHash(infoHash: string): Promise<void> | void
  handshake(infoHash: string, peerId: string): void
  destroy(): void
}

test('a bad key in a peer\'s MSE step 1 closes that wire instead of throwing out of the library\'s parser', async () => {
  assert.equal(await useFastMseKeyExchange(), true)
  const { default: Wire } = (await import('bittorrent-protocol')) as unknown as { default: new (type: string, peEnabled: number) => TestWire }
  for (const key of [Buffer.alloc(96), Buffer.alloc(96, 0xff)]) {
    const incoming = new Wire('tcpIncoming', 2)
    const closed = new Promise<void>((resolve) => incoming.once('close', () => resolve(undefined)))
    incoming.write(Buffer.concat([key, randomBytes(20)]))
    await within(closed, 'the wire closing on a bad key', 5000)
  }
})
