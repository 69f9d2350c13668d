import { dataKeyCreation } from './create-datakey.ts';

export default dataKeyCreation(false);
