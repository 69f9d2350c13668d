import { createHash, type KeyObject } from 'node:crypto';

/**
 * The digest a caller sends to sign `message` with SM2DSA_SM3 (message_type DIGEST): e = SM3(Z ‖ M),
 * Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GM/T 0003.2 §5.5), with the empty ID OpenSSL and
 * node:crypto use by default.
 */
export function sm2Digest(publicKey: KeyObject, message: Buffer | string): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const z = createHash('sm3').update(Buffer.concat([
    Buffer.alloc(2),
    Buffer.from('FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC', 'hex'),
    Buffer.from('28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93', 'hex'),
    Buffer.from('32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7', 'hex'),
    Buffer.from('BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0', 'hex'),
    spki.subarray(spki.length - 64),
  ])).digest();
  return createHash('sm3').update(z).update(message).digest();
}
