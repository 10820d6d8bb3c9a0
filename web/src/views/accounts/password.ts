// Temporary passwords made in the browser for a new account or a reset: 14 characters from a set without
// look-alikes (0/O, 1/l/I), so a clerk can read one aloud; random from the platform's cryptographic source.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789'

export function generatePassword(length = 14): string {
  const bytes = crypto.getRandomValues(new Uint32Array(length))
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('')
}
