import { dataKeyPairCreation } from './create-rsa-datakey-pair.ts';

export default dataKeyPairCreation('ec');
